#pragma once
// pmdi: private multi-cluster neural-network inference. The umbrella header.
#include "pmdi/core/aes.hpp"
#include "pmdi/core/block.hpp"
#include "pmdi/core/bytes.hpp"
#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/core/tensor.hpp"
#include "pmdi/net/framing.hpp"
#include "pmdi/net/memory.hpp"
#include "pmdi/net/transport.hpp"
