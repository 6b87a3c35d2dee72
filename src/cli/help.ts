/** The text of `shmzone --help`. */
export const HELP = `Usage: shmzone <command> [options]

Inspect and manage shmzone shared memory zones: POSIX segments /dev/shm/shmzone.<namespace>.<zone>,
files of the same name in hugetlbfs mounts and in --dir directories, and SysV segments (ipcs -m)
whose header names their zone.

Commands:
  ls [--namespace ns]               list segments: namespace, zone, backend, size, tag, state,
                                    creator pid (alive/dead), live peers, stale
  stat <zone> [--all]               slab table (per slot size/total/used/reqs/fails), pages,
                                    lock counters, and dict stats for dict zones; read
                                    only (exit 1 when the dict header is damaged)
  verify <zone>                     check every slab and dict invariant under the zone lock
  metrics <zone>                    the zone's metrics in Prometheus text format
  rm <zone> [--force]               remove a zone's segment (refused while in use without --force)
  rm --namespace ns [--force]       remove every zone of a namespace
  rm --stale [--namespace ns]       remove segments whose creator and peers are all dead
                                    (a ready persistent zone is a warm cache: kept)
  top [--namespace ns] [--interval s] [--once | --count n]
                                    live view of every zone: pages, dict hits and rates,
                                    lock counters, peers; up/down: zone, enter: slab
                                    classes, esc: back, q: quit.
                                    Plain text reports when not on a terminal
  help                              this text

A zone is named "zone" (searched in every namespace), "ns.zone", or "zone --namespace ns".

Options:
  -n, --namespace ns   restrict to one namespace
      --dir path       also look for file-backed zones (backend: 'file') in this directory
                       (absolute; may be given more than once)
      --json           machine-readable output on stdout (errors too: {"error":{code,message}})
      --all            stat: every size class, not only used ones
      --force          rm: remove even while live processes use it (they keep their mapping)
      --timeout ms     wait at most this long for a busy zone lock (default 5000; top: 200)
  -i, --interval s     top: seconds between refreshes (default 1, at least 0.1)
      --once           top: one text report (rates over one interval), then exit
      --count n        top: n text reports, one per interval, then exit
  -h, --help           this text
  -v, --version        the package version

Exit codes:
  0  ok (verify: no violation)
  1  failure: verify found a violation, damaged or unreadable segment, OS error
  2  usage error
  3  not found
  4  in use: rm refused because live processes use the zone
  5  ambiguous: the zone exists in several namespaces (give --namespace or ns.zone)
`;
