/*
 * nginx's own slab allocator (ngx_slab.c, locked by ngx_shmtx.c) under the allocator workloads
 * of bench/slab/workloads.ts, so that bench/slab/run.ts can compare with nginx measured in the
 * same run. bench/nginx/build.mjs compiles it against an unmodified nginx source tree.
 *
 *   harness [--quick]                            every case; one JSON object of medians
 *   harness W1|W2|W3|W4|W5 lock|locked [--quick] one case; one JSON line like child.ts's
 *
 * lock: ngx_slab_alloc / ngx_slab_free, the zone mutex taken per call. locked: the _locked
 * twins, with the mutex held around the whole pass as their contract asks (bench/slab's
 * UnderOneLock does the same). As in child.ts: every pass gets a freshly mapped zone (64 MiB;
 * W4 16 MiB), one warm-up pass, then 5 timed passes (3 with --quick); the figure is process
 * CPU ns per step, wall-clock ns alongside. W4 runs once (run.ts runs it with lock only).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <nginx.h>

#include "../c/workloads.h"

#ifndef HARNESS_CFLAGS
#error "build with bench/nginx/build.mjs, which defines HARNESS_CFLAGS"
#endif


#define HARNESS_CC     "gcc " __VERSION__ " " HARNESS_CFLAGS

#define MiB            (1024 * 1024)
#define ZONE_SIZE      (64 * MiB)
#define W4_ZONE_SIZE   (16 * MiB)
#define HARNESS        "nginx harness"


/*
 * Globals that nginx's start-up (ngx_os_init, main) sets. ngx_slab.c and ngx_shmtx.c read all
 * but ngx_cacheline_size, which is set anyway so that the process starts as nginx would.
 */
ngx_uint_t              ngx_pagesize;
ngx_uint_t              ngx_pagesize_shift;
ngx_uint_t              ngx_cacheline_size;
ngx_int_t               ngx_ncpu;
ngx_pid_t               ngx_pid;
volatile ngx_cycle_t   *ngx_cycle;

static ngx_log_t        harness_log;
static ngx_cycle_t      harness_cycle;


typedef struct {
    const char         *name;
    void             *(*alloc)(ngx_slab_pool_t *pool, size_t size);
    void              (*free)(ngx_slab_pool_t *pool, void *p);
    int                 hold_lock;
} variant_t;

static const variant_t  variants[] = {
    { "lock", ngx_slab_alloc, ngx_slab_free, 0 },
    { "locked", ngx_slab_alloc_locked, ngx_slab_free_locked, 1 },
};

static const variant_t *current_variant;


typedef struct {
    int                 workload;           /* 1..4 */
    const variant_t    *variant;
    int                 passes;
    pass_time_t         times[MAX_PASSES];
    uint64_t            steps;              /* W4: successful allocations */
    double              ratio;              /* W4 only */
    size_t              first_fail_size;    /* W4 only */
} result_t;


static void
die(const char *what)
{
    fprintf(stderr, HARNESS ": %s\n", what);
    exit(1);
}


/*
 * The one log sink ngx_slab.c and ngx_shmtx.c reach through ngx_log_error(). Their formats
 * contain no conversion other than "%s", which nginx's formatter and printf read alike.
 */
void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err, const char *fmt, ...)
{
    static const char  *names[] = {
        "stderr", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"
    };
    va_list             args;

    fprintf(stderr, "nginx harness: [%s] ", level <= NGX_LOG_DEBUG ? names[level] : "?");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    if (err != 0) {
        fprintf(stderr, " (%d: %s)", err, strerror(err));
    }
    fputc('\n', stderr);
}


/*
 * ngx_slab_alloc_locked calls this after logging that a slot's first page had no free chunk:
 * the pool is inconsistent, and a figure measured on it would mean nothing.
 */
void
ngx_debug_point(void)
{
    abort();
}


/* What nginx's start-up does before any zone exists. */
static void
harness_init(void)
{
    long  n;

    ngx_pagesize = getpagesize();
    ngx_pagesize_shift = __builtin_ctzl(ngx_pagesize);   /* a power of two */

    n = sysconf(_SC_LEVEL1_DCACHE_LINESIZE);
    ngx_cacheline_size = n > 0 ? (ngx_uint_t) n : NGX_CPU_CACHE_LINE;

    /* ngx_shmtx_lock spins before sleeping only when ngx_ncpu > 1. */
    n = sysconf(_SC_NPROCESSORS_ONLN);
    ngx_ncpu = n > 0 ? n : 1;

    /* The lock word holds the owner's pid, so it must not be 0. */
    ngx_pid = getpid();

    harness_log.log_level = NGX_LOG_ERR;     /* nginx's default error_log level */
    harness_cycle.log = &harness_log;
    ngx_cycle = &harness_cycle;

    ngx_slab_sizes_init();
}


/* A fresh zone with a pool at its start, set up the way ngx_init_zone_pool does it. */
static ngx_slab_pool_t *
zone_create(size_t size)
{
    u_char           *addr;
    ngx_slab_pool_t  *pool;

    /* ngx_shm_alloc's mapping on Linux: anonymous, shared, zero-filled. */
    addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (addr == MAP_FAILED) {
        die("mmap() of the zone failed");
    }

    pool = (ngx_slab_pool_t *) addr;
    pool->end = addr + size;
    pool->min_shift = 3;
    pool->addr = addr;

    if (ngx_shmtx_create(&pool->mutex, &pool->lock, NULL) != NGX_OK) {
        die("ngx_shmtx_create() failed");
    }

    ngx_slab_init(pool);
    return pool;
}


static void
zone_destroy(ngx_slab_pool_t *pool)
{
    ngx_shmtx_destroy(&pool->mutex);
    munmap(pool->addr, pool->end - (u_char *) pool->addr);
}


/* The workloads call nginx's slab through these (ctx: the pool). */
static void *
call_alloc(void *ctx, size_t size)
{
    return current_variant->alloc(ctx, size);
}

static void
call_free(void *ctx, void *p)
{
    current_variant->free(ctx, p);
}


/* W4 utilisation: sizes 8..4096 until the first failure; bytes requested / zone size. */
static void
w4(const variant_t *v, result_t *res)
{
    size_t            size;
    uint64_t          requested;
    ngx_slab_pool_t  *pool;
    xorshift32_t      rng = { XORSHIFT_SEED };

    pool = zone_create(W4_ZONE_SIZE);
    pool->log_nomem = 0;    /* the failure ends the workload; it is not an error */
    if (v->hold_lock) {
        ngx_shmtx_lock(&pool->mutex);
    }

    requested = 0;
    res->steps = 0;
    for ( ;; ) {
        size = 8 + rng_below(&rng, 4089);
        if (v->alloc(pool, size) == NULL) {
            break;
        }
        requested += size;
        res->steps++;
    }

    res->ratio = (double) requested / W4_ZONE_SIZE;
    res->first_fail_size = size;
    res->passes = 0;
    if (v->hold_lock) {
        ngx_shmtx_unlock(&pool->mutex);
    }
    zone_destroy(pool);
}


static pass_time_t
run_pass(int workload, const variant_t *v, const sizes_t *s)
{
    ngx_slab_pool_t  *pool;
    pass_time_t       t;
    allocator_t       a = { call_alloc, call_free, NULL };

    pool = zone_create(ZONE_SIZE);
    a.ctx = pool;
    current_variant = v;
    if (v->hold_lock) {
        ngx_shmtx_lock(&pool->mutex);
    }

    t = run_workload(workload, &a, s, HARNESS);

    if (v->hold_lock) {
        ngx_shmtx_unlock(&pool->mutex);
    }
    zone_destroy(pool);
    return t;
}


static void
run_case(int workload, const variant_t *v, int is_quick, result_t *res)
{
    const sizes_t  *s = is_quick ? &quick : &full;
    int             p;

    res->workload = workload;
    res->variant = v;
    if (workload == 4) {
        w4(v, res);
        return;
    }

    res->passes = is_quick ? 3 : 5;
    res->steps = workload_steps(workload, s);

    run_pass(workload, v, s);   /* warm-up */
    for (p = 0; p < res->passes; p++) {
        res->times[p] = run_pass(workload, v, s);
    }
}


/* Median of the passes (always an odd count). */
static double
median(const result_t *res, int wall)
{
    return median_of(res->times, res->passes, wall);
}


/* One case, shaped like child.ts's ChildReport (W4: runs = [ratio], steps = allocations). */
static void
print_case(const result_t *res)
{
    printf("{\"workload\":\"W%d\",\"variant\":\"%s\",\"nginx\":\"%s\",\"cc\":\"%s\"",
           res->workload, res->variant->name, NGINX_VERSION, HARNESS_CC);
    if (res->workload == 4) {
        printf(",\"runs\":[%.6f],\"steps\":%" PRIu64 ",\"detail\":{\"ratio\":%.6f,"
               "\"allocations\":%" PRIu64 ",\"firstFailSize\":%zu}}\n",
               res->ratio, res->steps, res->ratio, res->steps, res->first_fail_size);
        return;
    }

    print_passes(res->times, res->passes, res->steps);
    printf("}\n");
}


/* Every case: {"W1":{"lock":cpu,"locked":cpu,"wall":{...},"steps":n},...,"W4":ratio,...}. */
static void
print_all(int is_quick)
{
    int       w;
    result_t  lock, locked, util;

    printf("{\"nginx\":\"%s\",\"cc\":\"%s\",\"quick\":%s,\"unit\":"
           "\"process CPU ns per step, median of %d passes after a warm-up\"",
           NGINX_VERSION, HARNESS_CC, is_quick ? "true" : "false", is_quick ? 3 : 5);

    for (w = 1; w <= 3; w++) {
        run_case(w, &variants[0], is_quick, &lock);
        run_case(w, &variants[1], is_quick, &locked);
        printf(",\"W%d\":{\"lock\":%.4f,\"locked\":%.4f,\"wall\":{\"lock\":%.4f,"
               "\"locked\":%.4f},\"steps\":%" PRIu64 "}",
               w, median(&lock, 0), median(&locked, 0), median(&lock, 1),
               median(&locked, 1), lock.steps);
    }

    run_case(4, &variants[0], is_quick, &util);
    printf(",\"W4\":%.6f,\"W4detail\":{\"allocations\":%" PRIu64 ",\"firstFailSize\":%zu}}\n",
           util.ratio, util.steps, util.first_fail_size);
}


static void
usage(void)
{
    fprintf(stderr, "usage: harness [W1|W2|W3|W4|W5 lock|locked] [--quick]\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int              i, is_quick, workload, positional;
    const char      *arg, *variant_name;
    const variant_t *v;
    result_t         res;

    is_quick = 0;
    positional = 0;
    workload = 0;
    variant_name = NULL;

    for (i = 1; i < argc; i++) {
        arg = argv[i];
        if (strcmp(arg, "--quick") == 0) {
            is_quick = 1;

        } else if (positional == 0 && arg[0] == 'W' && arg[1] >= '1' && arg[1] <= '5'
                   && arg[2] == '\0')
        {
            workload = arg[1] - '0';
            positional++;

        } else if (positional == 1) {
            variant_name = arg;
            positional++;

        } else {
            usage();
        }
    }

    harness_init();

    if (positional == 0) {
        print_all(is_quick);
        return 0;
    }

    if (variant_name == NULL) {
        usage();
    }

    v = NULL;
    for (i = 0; i < (int) (sizeof(variants) / sizeof(variants[0])); i++) {
        if (strcmp(variant_name, variants[i].name) == 0) {
            v = &variants[i];
        }
    }
    if (v == NULL) {
        usage();
    }

    run_case(workload, v, is_quick, &res);
    print_case(&res);
    return 0;
}
