// Stand-in for the CUDA header of the same name: cuda_emu.h (force-included) defines
// everything it declares that the kernels use.
#pragma once
#include "../cuda_emu.h"
