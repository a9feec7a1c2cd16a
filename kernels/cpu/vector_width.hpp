// gcc vectorizes 256 bits wide on AVX-512 machines unless told (its prefer-vector-width default
// for Skylake-X and later); a kernel marked DB_WIDEST_VECTORS gets the widest the build allows
// (512 bits where AVX-512 is enabled, else unchanged).
#pragma once

#if defined(__x86_64__)
#define DB_WIDEST_VECTORS __attribute__((target("prefer-vector-width=512")))
#else
#define DB_WIDEST_VECTORS
#endif
