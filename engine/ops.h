#pragma once
// The engine's public API in one include: tensors, autograd and every differentiable op.
// Where things live:
//   engine/core/      Tensor, Shape, DType, Device, Storage/Allocator, the Backend interface, errors
//   engine/autograd/  graph nodes, grad()/backward(), no-grad scopes
//   engine/ops/       one file per op family: forward (a kernel call) + derivative formula
//   kernels/cpu/      raw-pointer CPU kernels behind the CPU backend (engine/core/backend_cpu.cpp)
//   kernels/cuda/     the CUDA backend
#include "engine/autograd/autograd.h"
#include "engine/autograd/gradcheck.h"
#include "engine/core/backend.h"
#include "engine/core/error.h"
#include "engine/core/random.h"
#include "engine/core/tensor.h"
#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/index_ops.h"
#include "engine/ops/linalg.h"
#include "engine/ops/loss.h"
#include "engine/ops/norm.h"
#include "engine/ops/pool.h"
#include "engine/ops/reduce.h"
#include "engine/ops/shape_ops.h"
