// What a family's declaration file includes: the registry, the one check, the seeded fills, and
// the copy/read kernels every family's references and ceilings are built from.
#pragma once

#include "bench/registry.hpp"
#include "dtypebench/check.hpp"
#include "dtypebench/fill.hpp"
#include "kernels/cpu/baseline.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "kernels/cuda/baseline.hpp"
#endif
