/* C helpers shared by the kernels (_logic.pyx, _linear.pyx; included after Python.h, so
   Py_ssize_t is defined): OpenMP thread number and team size, a wall clock, short sleeps and
   the atomics with which threads share a work counter and a stop flag. Thread 0 (the calling
   Python thread) uses them to poll for Ctrl-C between blocks of work. */
#ifndef MMMECH_KERNEL_COMMON_H
#define MMMECH_KERNEL_COMMON_H
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(_MSC_VER)
#include <intrin.h>
static Py_ssize_t mm_fetch_add(Py_ssize_t* p) {
    return (Py_ssize_t)_InterlockedExchangeAdd64((volatile __int64*)p, 1);
}
#else
static Py_ssize_t mm_fetch_add(Py_ssize_t* p) {
    return __atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
}
#endif
#ifdef _OPENMP
static int mm_thread_num(void) { return omp_get_thread_num(); }
static int mm_team_size(void) { return omp_get_num_threads(); }
#else
static int mm_thread_num(void) { return 0; }
static int mm_team_size(void) { return 1; }
#endif
#include <time.h>
static double mm_now(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#if defined(_WIN32)
#include <windows.h>
static void mm_sleep_ms(int ms) { Sleep((DWORD)ms); }
static int mm_load_int(int* p) { return (int)_InterlockedOr((volatile long*)p, 0); }
static void mm_store_int(int* p, int v) { _InterlockedExchange((volatile long*)p, v); }
static void mm_add_int(int* p, int v) { _InterlockedExchangeAdd((volatile long*)p, v); }
static Py_ssize_t mm_load_ssize(Py_ssize_t* p) {
    return (Py_ssize_t)_InterlockedOr64((volatile __int64*)p, 0);
}
#else
static void mm_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}
static int mm_load_int(int* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void mm_store_int(int* p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static void mm_add_int(int* p, int v) { __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
static Py_ssize_t mm_load_ssize(Py_ssize_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
#endif

#endif /* MMMECH_KERNEL_COMMON_H */
