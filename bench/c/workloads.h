/*
 * The allocator workloads W1-W3 and W5 of bench/slab/workloads.ts in C, over any allocator behind
 * two function pointers, for the C yardsticks measured in the same run as shmzone
 * (bench/nginx/harness.c: nginx's slab; bench/glibc/harness.c: glibc's malloc). Same sizes in
 * the same order as the TypeScript workloads (bench/prng.ts's xorshift32), the same timing:
 * process CPU ns per step, wall-clock alongside. Header-only: each harness is one C file.
 */
#ifndef SHMZONE_BENCH_WORKLOADS_H
#define SHMZONE_BENCH_WORKLOADS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define W1_BLOCKS      10000
#define W2_LIVE        10000
#define W3_LIVE        1000
#define W5_LIVE        4096
#define MAX_PASSES     5

/* workloads.ts's FULL and QUICK. */
typedef struct {
    uint64_t            w1_rounds;
    uint64_t            w2_steps;
    uint64_t            w3_steps;
    uint64_t            w5_steps;
} sizes_t;

static const sizes_t    full = { 1000, 10000000, 1000000, 2000000 };
static const sizes_t    quick = { 100, 1000000, 100000, 200000 };

/* One allocator as the workloads see it: NULL from alloc means no memory. */
typedef struct {
    void             *(*alloc)(void *ctx, size_t size);
    void              (*free)(void *ctx, void *p);
    void               *ctx;
} allocator_t;

typedef struct {
    double              cpu;
    double              wall;
} pass_time_t;

/* bench/prng.ts's xorshift32, so every contender sees the same sizes in the same order. */
typedef struct {
    uint32_t            x;
} xorshift32_t;

#define XORSHIFT_SEED  0x9E3779B9u

static uint32_t
rng_next(xorshift32_t *r)
{
    uint32_t  x = r->x;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    r->x = x;
    return x;
}

/* prng.ts's below(n): next() % n on the unsigned value. */
static uint32_t
rng_below(xorshift32_t *r, uint32_t n)
{
    return rng_next(r) % n;
}

static uint64_t
clock_ns(clockid_t id)
{
    struct timespec  ts;

    clock_gettime(id, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct {
    uint64_t            cpu0;
    uint64_t            wall0;
} stopwatch_t;

static void
stopwatch_start(stopwatch_t *sw)
{
    sw->wall0 = clock_ns(CLOCK_MONOTONIC);
    sw->cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static pass_time_t
stopwatch_per(const stopwatch_t *sw, uint64_t steps)
{
    pass_time_t  t;

    t.cpu = (double) (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - sw->cpu0) / steps;
    t.wall = (double) (clock_ns(CLOCK_MONOTONIC) - sw->wall0) / steps;
    return t;
}

static void
out_of_memory(const char *harness, const char *workload)
{
    fprintf(stderr, "%s: %s: the allocator ran out of memory "
            "(the workload must never fail)\n", harness, workload);
    exit(1);
}

/* W1 fixed64: rounds of 10,000 x alloc(64), then free in allocation order. Per pair. */
static pass_time_t
w1(const allocator_t *a, uint64_t rounds, const char *harness)
{
    static void  *live[W1_BLOCKS];
    uint64_t      r;
    int           i;
    stopwatch_t   sw;

    stopwatch_start(&sw);
    for (r = 0; r < rounds; r++) {
        for (i = 0; i < W1_BLOCKS; i++) {
            live[i] = a->alloc(a->ctx, 64);
            if (live[i] == NULL) {
                out_of_memory(harness, "W1");
            }
        }
        for (i = 0; i < W1_BLOCKS; i++) {
            a->free(a->ctx, live[i]);
        }
    }
    return stopwatch_per(&sw, rounds * W1_BLOCKS);
}

/*
 * W2 / W3: fill a live set (untimed), then each step frees a random block and allocates a
 * new one of a random size in its place; the live set is freed after the clock stops.
 */
static pass_time_t
replace(const allocator_t *a, uint64_t steps, uint32_t live_count, size_t base,
    uint32_t spread, const char *harness, const char *workload)
{
    static void   *live[W2_LIVE];     /* the larger live set */
    uint32_t       i;
    uint64_t       k;
    stopwatch_t    sw;
    pass_time_t    t;
    xorshift32_t   rng = { XORSHIFT_SEED };

    for (i = 0; i < live_count; i++) {
        live[i] = a->alloc(a->ctx, base + rng_below(&rng, spread));
        if (live[i] == NULL) {
            out_of_memory(harness, workload);
        }
    }

    stopwatch_start(&sw);
    for (k = 0; k < steps; k++) {
        i = rng_below(&rng, live_count);
        a->free(a->ctx, live[i]);
        live[i] = a->alloc(a->ctx, base + rng_below(&rng, spread));
        if (live[i] == NULL) {
            out_of_memory(harness, workload);
        }
    }
    t = stopwatch_per(&sw, steps);

    for (i = 0; i < live_count; i++) {
        a->free(a->ctx, live[i]);
    }
    return t;
}

/* workloads.ts's cacheSize(): 70% 16..512 B, 25% 513 B..8 KiB, 5% 8 KiB..64 KiB. */
static size_t
cache_size(xorshift32_t *rng)
{
    uint32_t  r = rng_below(rng, 100);

    if (r < 70) {
        return 16 + rng_below(rng, 497);
    }
    if (r < 95) {
        return 513 + rng_below(rng, 7680);
    }
    return 8193 + rng_below(rng, 57344);
}

/*
 * W5 cache-like: 4,096 live blocks of cache_size() in a ring; each step frees the oldest (one
 * step in eight a random one instead: FIFO-ish lifetimes) and allocates a new block in its
 * slot. As workloads.ts's w5().
 */
static pass_time_t
w5(const allocator_t *a, uint64_t steps, const char *harness)
{
    static void   *live[W5_LIVE];
    uint32_t       i, head;
    uint64_t       k;
    stopwatch_t    sw;
    pass_time_t    t;
    xorshift32_t   rng = { XORSHIFT_SEED };

    for (i = 0; i < W5_LIVE; i++) {
        live[i] = a->alloc(a->ctx, cache_size(&rng));
        if (live[i] == NULL) {
            out_of_memory(harness, "W5");
        }
    }

    head = 0;
    stopwatch_start(&sw);
    for (k = 0; k < steps; k++) {
        if (rng_below(&rng, 8) == 0) {
            i = rng_below(&rng, W5_LIVE);
        } else {
            i = head;
            head = (head + 1) % W5_LIVE;
        }
        a->free(a->ctx, live[i]);
        live[i] = a->alloc(a->ctx, cache_size(&rng));
        if (live[i] == NULL) {
            out_of_memory(harness, "W5");
        }
    }
    t = stopwatch_per(&sw, steps);

    for (i = 0; i < W5_LIVE; i++) {
        a->free(a->ctx, live[i]);
    }
    return t;
}


/* One timed pass of W1, W2, W3 or W5. */
static pass_time_t
run_workload(int workload, const allocator_t *a, const sizes_t *s, const char *harness)
{
    switch (workload) {
    case 1:
        return w1(a, s->w1_rounds, harness);
    case 2:
        return replace(a, s->w2_steps, W2_LIVE, 8, 2041, harness, "W2");
    case 3:
        return replace(a, s->w3_steps, W3_LIVE, 4096, 61441, harness, "W3");
    default:
        return w5(a, s->w5_steps, harness);
    }
}

static uint64_t
workload_steps(int workload, const sizes_t *s)
{
    return workload == 1 ? s->w1_rounds * W1_BLOCKS
           : workload == 2 ? s->w2_steps : workload == 3 ? s->w3_steps : s->w5_steps;
}

static int
compare_doubles(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

/* Median of `n` passes (an odd count), CPU or wall. */
static double
median_of(const pass_time_t *times, int n, int wall)
{
    double  xs[MAX_PASSES];
    int     p;

    for (p = 0; p < n; p++) {
        xs[p] = wall ? times[p].wall : times[p].cpu;
    }
    qsort(xs, n, sizeof(double), compare_doubles);
    return xs[n / 2];
}

/* The passes as child.ts's ChildReport fields: ,"runs":[cpu...],"wall":[...],"steps":n */
static void
print_passes(const pass_time_t *times, int n, uint64_t steps)
{
    int  p;

    printf(",\"runs\":[");
    for (p = 0; p < n; p++) {
        printf("%s%.4f", p ? "," : "", times[p].cpu);
    }
    printf("],\"wall\":[");
    for (p = 0; p < n; p++) {
        printf("%s%.4f", p ? "," : "", times[p].wall);
    }
    printf("],\"steps\":%" PRIu64, steps);
}

#endif /* SHMZONE_BENCH_WORKLOADS_H */
