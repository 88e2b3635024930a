// expect: PMDI_E_NOT_A_LAYER
// first error: PMDI_E_NOT_A_LAYER, pmdi::nn::relu>
// describe<> of something that is not an nn::sequential
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
auto d = nn::describe<nn::relu>();
