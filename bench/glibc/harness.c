/*
 * glibc's malloc/free under the allocator workloads W1-W3 and W5 (bench/c/workloads.h), so
 * that bench/slab/run.ts can give shmzone's slab a second yardstick measured in the same run:
 * the allocator every C program on the machine uses. It is not a shared-memory allocator (its
 * memory is private to the process and it takes no cross-process lock): the ratio says what
 * sharing costs against the best a process can do alone. bench/glibc/build.mjs compiles it.
 *
 *   harness W1|W2|W3|W5 malloc [--quick]    one case; one JSON line like child.ts's
 *
 * One warm-up pass, then 5 timed passes (3 with --quick); process CPU ns per step.
 */
#include <gnu/libc-version.h>
#include <string.h>

#include "../c/workloads.h"

#ifndef HARNESS_CFLAGS
#error "build with bench/glibc/build.mjs, which defines HARNESS_CFLAGS"
#endif

#define HARNESS        "glibc harness"
#define HARNESS_CC     "gcc " __VERSION__ " " HARNESS_CFLAGS

static void *
call_malloc(void *ctx, size_t size)
{
    (void) ctx;
    return malloc(size);
}

static void
call_free(void *ctx, void *p)
{
    (void) ctx;
    free(p);
}

static void
usage(void)
{
    fprintf(stderr, "usage: harness W1|W2|W3|W5 malloc [--quick]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const allocator_t  a = { call_malloc, call_free, NULL };
    const sizes_t     *s;
    pass_time_t        times[MAX_PASSES];
    int                workload, passes, p;

    if (argc < 3 || argc > 4 || argv[1][0] != 'W' || argv[1][1] < '1' || argv[1][1] > '5'
        || argv[1][1] == '4' || argv[1][2] != '\0' || strcmp(argv[2], "malloc") != 0
        || (argc == 4 && strcmp(argv[3], "--quick") != 0))
    {
        usage();
    }
    workload = argv[1][1] - '0';
    s = argc == 4 ? &quick : &full;
    passes = argc == 4 ? 3 : 5;

    run_workload(workload, &a, s, HARNESS);   /* warm-up */
    for (p = 0; p < passes; p++) {
        times[p] = run_workload(workload, &a, s, HARNESS);
    }

    printf("{\"workload\":\"W%d\",\"variant\":\"malloc\",\"glibc\":\"%s\",\"cc\":\"%s\"",
           workload, gnu_get_libc_version(), HARNESS_CC);
    print_passes(times, passes, workload_steps(workload, s));
    printf("}\n");
    return 0;
}
