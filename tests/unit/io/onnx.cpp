// ONNX loader: round trip against PyTorch's outputs, refusals that name the
// node and op. Data made by tools/train_minionn.py (no PyTorch needed here).
#include "pmdi/io/onnx.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "layers.hpp"
#include "pmdi/io/idx.hpp"
#include "pmdi/plan/oracle.hpp"
#include "pmdi/nn/sequential.hpp"
#include "pmdi/nn/zoo.hpp"
#include "pmdi/plan/lower.hpp"

namespace {

using Catch::Contains;
using pmdi::test::layer_list;
const std::string data = PMDI_TEST_DATA "/onnx/";

std::vector<float> read_f32(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f);
  std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  REQUIRE(raw.size() % 4 == 0);
  std::vector<float> v(raw.size() / 4);
  std::memcpy(v.data(), raw.data(), raw.size());  // little-endian, as written
  return v;
}

// conv 3x3 (stride 2, pad 1) + bn + relu + maxpool 2 + flatten + dense 6 + bn + relu + dense 3
layer_list tiny(bool with_bn, std::size_t k = 3, std::size_t units = 6) {
  layer_list l(2, 8, 8);
  l.conv(4, k, 2, 1);
  if (with_bn) l.batchnorm();
  l.relu().pool(false, 2).flatten().dense(units);
  if (with_bn) l.batchnorm();
  l.relu().dense(3);
  return l;
}

namespace nn = pmdi::nn;
using tiny_net = nn::sequential<nn::input<2, 8, 8>, nn::conv2d<4, 3, 2, 1>, nn::batchnorm, nn::relu, nn::maxpool<2>,
                                nn::flatten, nn::dense<6>, nn::batchnorm, nn::relu, nn::dense<3>>;
using tiny_residual = nn::sequential<nn::input<2, 8, 8>, nn::conv2d<4, 3, 1, 1>, nn::relu,
                                     nn::residual<nn::conv2d<4, 3, 1, 1>, nn::batchnorm, nn::relu, nn::conv2d<4, 3, 1, 1>>,
                                     nn::relu, nn::flatten, nn::dense<3>>;

void check_tiny(const std::vector<pmdi::nn::layer_info>& layers, std::size_t entries) {
  const auto w = pmdi::io::load_onnx(data + "tiny.onnx", layers);
  REQUIRE(w.layers.size() == entries);  // conv, dense, dense (+ 2 batch-norms when declared)
  CHECK(w.layers[0].weight.size() == 4 * 2 * 3 * 3);
  const auto x = read_f32(data + "tiny_inputs.f32");
  const auto y = read_f32(data + "tiny_outputs.f32");
  REQUIRE(x.size() == 4 * 2 * 8 * 8);
  REQUIRE(y.size() == 4 * 3);
  for (std::size_t n = 0; n < 4; ++n) {
    const auto got = pmdi::test::forward(layers, w, {x.begin() + n * 128, x.begin() + (n + 1) * 128});
    REQUIRE(got.size() == 3);
    for (std::size_t j = 0; j < 3; ++j) CHECK(got[j] == Approx(y[n * 3 + j]).margin(1e-5).epsilon(1e-4));
  }
}

}  // namespace

TEST_CASE("onnx: tiny model agrees with PyTorch, batch-norm declared or folded", "[io][onnx]") {
  SECTION("batch-norm declared as layers") { check_tiny(tiny(true), 5); }
  SECTION("batch-norm absent from the declaration: folded by the loader") { check_tiny(tiny(false), 3); }
  SECTION("declared by the DSL type") { check_tiny(nn::describe<tiny_net>(), 5); }
}

TEST_CASE("onnx: the float and fixed-point oracles on the loaded tiny model agree with PyTorch", "[io][onnx]") {
  const auto w = pmdi::io::load_onnx(data + "tiny.onnx", nn::describe<tiny_net>());
  const auto x = read_f32(data + "tiny_inputs.f32");
  const auto y = read_f32(data + "tiny_outputs.f32");
  using ring = pmdi::ring<64, 16>;
  const auto stages = pmdi::plan::lower<tiny_net, ring>(w);
  for (std::size_t n = 0; n < 4; ++n) {
    const std::vector<double> in(x.begin() + n * 128, x.begin() + (n + 1) * 128);
    const auto got = pmdi::oracle::infer_float<tiny_net>(w, in);
    const auto fx = pmdi::oracle::decode_output<ring>(stages, pmdi::oracle::fixed<ring>(stages, pmdi::oracle::encode<ring>(in)));
    REQUIRE(got.size() == 3);
    for (std::size_t j = 0; j < 3; ++j) {
      CHECK(got[j] == Approx(y[n * 3 + j]).margin(1e-5).epsilon(1e-4));
      CHECK(fx[j] == Approx(y[n * 3 + j]).margin(2e-3));
    }
  }
}

TEST_CASE("onnx: a residual block (identity shortcut) agrees with PyTorch", "[io][onnx]") {
  const auto layers = nn::describe<tiny_residual>();
  const auto w = pmdi::io::load_onnx(data + "tiny_residual.onnx", layers);
  CHECK(w.layers.size() == 5);  // conv, conv, bn, conv, dense
  const auto x = read_f32(data + "tiny_inputs.f32");
  const auto y = read_f32(data + "tiny_residual_outputs.f32");
  REQUIRE(y.size() == 12);
  for (std::size_t n = 0; n < 4; ++n) {
    const auto got = pmdi::test::forward(layers, w, {x.begin() + n * 128, x.begin() + (n + 1) * 128});
    for (std::size_t j = 0; j < 3; ++j) CHECK(got[j] == Approx(y[n * 3 + j]).margin(1e-5).epsilon(1e-4));
  }
  // The same file against a declaration whose add reads other layers.
  using wrong = nn::sequential<nn::input<2, 8, 8>, nn::conv2d<4, 3, 1, 1>, nn::relu,
                               nn::residual<nn::conv2d<4, 3, 1, 1>, nn::batchnorm, nn::relu, nn::conv2d<4, 3, 1, 1>,
                                            nn::shortcut<nn::conv2d<4, 1>>>,
                               nn::relu, nn::flatten, nn::dense<3>>;
  CHECK_THROWS_AS(pmdi::io::load_onnx(data + "tiny_residual.onnx", nn::describe<wrong>()), pmdi::usage_error);
  // The generator writes the residual block back as the DSL spells it.
  CHECK(pmdi::io::cpp_type(pmdi::io::describe_onnx(data + "tiny_residual.onnx")) ==
        "using net = pmdi::nn::sequential<\n"
        "    pmdi::nn::input<2, 8, 8>,\n"
        "    pmdi::nn::conv2d<4, 3, 1, 1>,\n"
        "    pmdi::nn::relu,\n"
        "    pmdi::nn::residual<pmdi::nn::conv2d<4, 3, 1, 1>, pmdi::nn::batchnorm, pmdi::nn::relu, "
        "pmdi::nn::conv2d<4, 3, 1, 1>>,\n"
        "    pmdi::nn::relu,\n"
        "    pmdi::nn::flatten,\n"
        "    pmdi::nn::dense<3>>;\n");
  // And the describe<> of a projection shortcut round-trips through cpp_type.
  using proj = nn::sequential<nn::input<4, 8, 8>, nn::relu,
                              nn::residual<nn::conv2d<8, 3, 2, 1>, nn::batchnorm, nn::relu, nn::conv2d<8, 3, 1, 1>,
                                           nn::shortcut<nn::conv2d<8, 1, 2>>>,
                              nn::relu, nn::flatten, nn::dense<2>, nn::argmax>;
  CHECK(pmdi::io::cpp_type(nn::describe<proj>()) ==
        "using net = pmdi::nn::sequential<\n"
        "    pmdi::nn::input<4, 8, 8>,\n"
        "    pmdi::nn::relu,\n"
        "    pmdi::nn::residual<pmdi::nn::conv2d<8, 3, 2, 1>, pmdi::nn::batchnorm, pmdi::nn::relu, "
        "pmdi::nn::conv2d<8, 3, 1, 1>, pmdi::nn::shortcut<pmdi::nn::conv2d<8, 1, 2>>>,\n"
        "    pmdi::nn::relu,\n"
        "    pmdi::nn::flatten,\n"
        "    pmdi::nn::dense<2>,\n"
        "    pmdi::nn::argmax>;\n");
}

TEST_CASE("onnx: describe_onnx and cpp_type print the network type", "[io][onnx]") {
  const auto layers = pmdi::io::describe_onnx(data + "tiny.onnx");
  CHECK(pmdi::io::cpp_type(layers) ==
        "using net = pmdi::nn::sequential<\n"
        "    pmdi::nn::input<2, 8, 8>,\n"
        "    pmdi::nn::conv2d<4, 3, 2, 1>,\n"
        "    pmdi::nn::batchnorm,\n"
        "    pmdi::nn::relu,\n"
        "    pmdi::nn::maxpool<2>,\n"
        "    pmdi::nn::flatten,\n"
        "    pmdi::nn::dense<6>,\n"
        "    pmdi::nn::batchnorm,\n"
        "    pmdi::nn::relu,\n"
        "    pmdi::nn::dense<3>>;\n");
}

TEST_CASE("onnx: refusals name the node, the op and the opset", "[io][onnx]") {
  const auto layers = tiny(true);
  CHECK_THROWS_AS(pmdi::io::load_onnx(data + "bad_truncated.onnx", layers.get()), pmdi::decode_error);
  CHECK_THROWS_WITH(pmdi::io::load_onnx(data + "bad_truncated.onnx", layers.get()),
                    Contains("bad_truncated.onnx: not a valid ONNX model"));
  CHECK_THROWS_AS(pmdi::io::load_onnx(data + "bad_kernel.onnx", layers.get()), pmdi::usage_error);
  CHECK_THROWS_WITH(pmdi::io::load_onnx(data + "bad_kernel.onnx", layers.get()),
                    Contains("bad_kernel.onnx: node 0 '/conv/Conv' (Conv, opset 13): weight shape 4x2x5x5 but "
                             "conv2d<4, 3> (layer 1) declares 4x2x3x3"));
  CHECK_THROWS_WITH(pmdi::io::load_onnx(data + "bad_op.onnx", layers.get()),
                    Contains("node 2 '/act/Sigmoid' (Sigmoid, opset 13): unsupported op 'Sigmoid'"));
  CHECK_THROWS_AS(pmdi::io::load_onnx(data + "bad_bytes.onnx", layers.get()), pmdi::decode_error);
  CHECK_THROWS_WITH(pmdi::io::load_onnx(data + "bad_bytes.onnx", layers.get()),
                    Contains("(Conv, opset 13): tensor 'conv.weight' of shape 4x2x3x3 needs 288 bytes but holds 280"));
  CHECK_THROWS_AS(pmdi::io::load_onnx(data + "missing.onnx", layers.get()), pmdi::usage_error);
}

TEST_CASE("onnx: a declaration that differs from the file is refused", "[io][onnx]") {
  CHECK_THROWS_WITH(pmdi::io::load_onnx(data + "tiny.onnx", tiny(true, 3, 7).get()),
                    Contains("node 7 '/fc1/Gemm' (Gemm, opset 13): weight shape 6x16 but dense<7> (layer 6) declares 7x16"));
  layer_list wrong_input(1, 8, 8);
  wrong_input.conv(4, 3, 2, 1);
  CHECK_THROWS_WITH(pmdi::io::load_onnx(data + "tiny.onnx", wrong_input.get()),
                    Contains("input 'input' is 2x8x8 but input<1, 8, 8> (layer 0) declares 1x8x8"));
  layer_list stride(2, 8, 8);
  stride.conv(4, 3, 1, 1).batchnorm().relu();
  CHECK_THROWS_WITH(pmdi::io::load_onnx(data + "tiny.onnx", stride.get()),
                    Contains("node 0 '/conv/Conv' (Conv, opset 13): stride 2 but conv2d<4, 3> (layer 1) declares 1"));
  layer_list pool_kind(2, 8, 8);
  pool_kind.conv(4, 3, 2, 1).batchnorm().relu().pool(true, 2);
  CHECK_THROWS_WITH(pmdi::io::load_onnx(data + "tiny.onnx", pool_kind.get()),
                    Contains("node 3 '/pool/MaxPool' (MaxPool, opset 13): is maxpool<2> but the declared layer is "
                             "meanpool<2> (layer 4)"));
  layer_list short_decl(2, 8, 8);
  short_decl.conv(4, 3, 2, 1).batchnorm().relu();
  CHECK_THROWS_WITH(pmdi::io::load_onnx(data + "tiny.onnx", short_decl.get()),
                    Contains("(MaxPool, opset 13): the declared network has 4 layers and ends before this maxpool<2>"));
  auto long_decl = tiny(true);
  long_decl.relu();
  CHECK_THROWS_WITH(pmdi::io::load_onnx(data + "tiny.onnx", long_decl.get()),
                    Contains("tiny.onnx: the graph ends but relu (layer 10) and 0 more declared layers have no node"));
}

TEST_CASE("onnx: the shipped MiniONN model loads and agrees with PyTorch", "[io][onnx]") {
  const std::string model = PMDI_TEST_DATA "/../../examples/models/minionn_fashion.onnx";
  const auto layers = nn::describe<nn::zoo::minionn_mnist>();
  const auto w = pmdi::io::load_onnx(model, layers);
  REQUIRE(w.layers.size() == 4);
  CHECK(w.layers[0].layer_index == 1);
  CHECK(w.layers[2].weight.size() == 100 * 256);
  CHECK(pmdi::io::cpp_type(pmdi::io::describe_onnx(model), "minionn") ==
        "using minionn = pmdi::nn::sequential<\n"
        "    pmdi::nn::input<1, 28, 28>,\n"
        "    pmdi::nn::conv2d<16, 5>,\n"
        "    pmdi::nn::relu,\n"
        "    pmdi::nn::meanpool<2>,\n"
        "    pmdi::nn::conv2d<16, 5>,\n"
        "    pmdi::nn::relu,\n"
        "    pmdi::nn::meanpool<2>,\n"
        "    pmdi::nn::flatten,\n"
        "    pmdi::nn::dense<100>,\n"
        "    pmdi::nn::relu,\n"
        "    pmdi::nn::dense<10>>;\n");
  const std::string images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!std::filesystem::exists(images)) {
    WARN("Fashion-MNIST not installed (dataset-fashion-mnist): skipping the logits check");
    return;
  }
  const auto test = pmdi::io::read_idx_images(images);
  const auto want = read_f32(data + "minionn_fashion_first8.f32");
  REQUIRE(want.size() == 80);
  for (std::size_t n = 0; n < 8; ++n) {
    const auto img = test.image(n);
    const std::vector<double> in(img.begin(), img.end());
    const auto got = pmdi::oracle::infer_float<nn::zoo::minionn_mnist>(w, in);
    const auto mine = pmdi::test::forward(layers, w, {img.begin(), img.end()});
    for (std::size_t j = 0; j < 10; ++j) {
      CHECK(got[j] == Approx(want[n * 10 + j]).margin(1e-4).epsilon(1e-4));
      CHECK(mine[j] == Approx(want[n * 10 + j]).margin(1e-4).epsilon(1e-4));
    }
  }
}

// The shipped model with its two Pad constants moved to the
// top of the graph (tools/make_onnx_constants_first.py; onnx.checker accepts
// it). The loader kept pointers into a vector of Constant tensors that the
// second Constant reallocated (heap-use-after-free; in Release "tensor '' has
// ONNX data type 0"). It must load and give the same weights as the original.
TEST_CASE("onnx: Constant nodes before their users load (no dangling tensor)", "[io][onnx]") {
  const auto layers = nn::describe<nn::zoo::minionn_mnist>();
  const auto want = pmdi::io::load_onnx(PMDI_TEST_DATA "/../../examples/models/minionn_fashion.onnx", layers);
  const auto got = pmdi::io::load_onnx(data + "minionn_constants_first.onnx", layers);
  REQUIRE(got.layers.size() == want.layers.size());
  for (std::size_t i = 0; i < got.layers.size(); ++i) {
    CHECK(got.layers[i].layer_index == want.layers[i].layer_index);
    CHECK(got.layers[i].weight == want.layers[i].weight);
    CHECK(got.layers[i].bias == want.layers[i].bias);
  }
}

TEST_CASE("onnx: corrupted bytes load or throw pmdi::error, never anything else", "[io][onnx]") {
  std::ifstream f(data + "tiny.onnx", std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  REQUIRE(raw.size() > 1000);
  const auto layers = nn::describe<tiny_net>();
  std::size_t refused = 0, loaded = 0;
  for (std::size_t pos = 0; pos < raw.size(); pos += 3) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      auto bad = raw;
      bad[pos] = static_cast<char>(bad[pos] ^ mask);
      std::vector<std::byte> b(bad.size());
      std::memcpy(b.data(), bad.data(), bad.size());
      try {
        const auto w = pmdi::io::load_onnx(b, "corrupt.onnx", layers);
        CHECK(w.layers.size() == 5);
        ++loaded;
      } catch (const pmdi::error& e) {
        CHECK_THAT(e.what(), Contains("corrupt.onnx"));
        ++refused;
      }
    }
  }
  CHECK(refused > 0);
  CHECK(loaded > 0);  // flipped weight bits still make a valid model
  for (std::size_t len = 0; len < raw.size(); len += 97) {
    std::vector<std::byte> b(len);
    if (len) std::memcpy(b.data(), raw.data(), len);
    CHECK_THROWS_AS(pmdi::io::load_onnx(b, "cut.onnx", layers), pmdi::error);
  }
}

namespace {

// A model built in memory: Reshape -> MatMul -> Add -> Relu -> ArgMax.
onnx::ModelProto matmul_model() {
  onnx::ModelProto m;
  m.set_ir_version(7);
  auto* op = m.add_opset_import();
  op->set_version(13);
  auto* g = m.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int d : {1, 2, 2, 2}) tt->mutable_shape()->add_dim()->set_dim_value(d);
  g->add_output()->set_name("y");
  auto init = [&](const std::string& name, std::vector<std::int64_t> dims, std::vector<float> v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
  };
  std::vector<float> w(8 * 3);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i) * 0.5F - 3.0F;  // [in][units]
  init("W", {8, 3}, w);
  init("b", {3}, {0.25F, -0.5F, 1.0F});
  auto* shape = g->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(2);
  shape->add_int64_data(1);
  shape->add_int64_data(-1);
  auto node = [&](const std::string& name, const std::string& op_type, std::vector<std::string> ins, std::string out) {
    auto* n = g->add_node();
    n->set_name(name);
    n->set_op_type(op_type);
    for (auto& i : ins) n->add_input(i);
    n->add_output(out);
    return n;
  };
  node("reshape", "Reshape", {"x", "shape"}, "flat");
  node("matmul", "MatMul", {"flat", "W"}, "mm");
  node("bias", "Add", {"mm", "b"}, "lin");
  node("relu", "Relu", {"lin"}, "act");
  auto* am = node("argmax", "ArgMax", {"act"}, "y");
  auto* axis = am->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(1);
  return m;
}

std::vector<std::byte> bytes_of(const onnx::ModelProto& m) {
  const std::string s = m.SerializeAsString();
  std::vector<std::byte> b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

}  // namespace

TEST_CASE("onnx: Reshape + MatMul + Add bias + ArgMax", "[io][onnx]") {
  using net = nn::sequential<nn::input<2, 2, 2>, nn::flatten, nn::dense<3>, nn::relu, nn::argmax>;
  const auto layers = nn::describe<net>();
  const auto w = pmdi::io::load_onnx(bytes_of(matmul_model()), "mem.onnx", layers);
  REQUIRE(w.layers.size() == 1);
  CHECK(w.layers[0].layer_index == 2);
  REQUIRE(w.layers[0].weight.size() == 24);
  for (std::size_t u = 0; u < 3; ++u)
    for (std::size_t i = 0; i < 8; ++i)  // PyTorch order [units][in]: MatMul's [in][units] transposed
      CHECK(w.layers[0].weight[u * 8 + i] == static_cast<float>(i * 3 + u) * 0.5F - 3.0F);
  CHECK(w.layers[0].bias == std::vector<float>{0.25F, -0.5F, 1.0F});
  CHECK(pmdi::io::cpp_type(layers) ==
        "using net = pmdi::nn::sequential<\n    pmdi::nn::input<2, 2, 2>,\n    pmdi::nn::flatten,\n"
        "    pmdi::nn::dense<3>,\n    pmdi::nn::relu,\n    pmdi::nn::argmax>;\n");

  auto m = matmul_model();
  m.mutable_graph()->mutable_node(0)->set_op_type("Transpose");
  CHECK_THROWS_WITH(pmdi::io::load_onnx(bytes_of(m), "mem.onnx", layers),
                    Contains("mem.onnx: node 0 'reshape' (Transpose, opset 13): unsupported op 'Transpose'"));
  m = matmul_model();
  m.mutable_graph()->mutable_initializer(2)->set_int64_data(1, 4);  // reshape to [1, 4]
  CHECK_THROWS_WITH(pmdi::io::load_onnx(bytes_of(m), "mem.onnx", layers),
                    Contains("node 0 'reshape' (Reshape, opset 13): reshape to 1x4 is not a flatten to [N, 8]"));
  m = matmul_model();
  m.mutable_graph()->mutable_initializer(1)->add_float_data(2.0F);  // 4 bias values for shape [3]
  CHECK_THROWS_AS(pmdi::io::load_onnx(bytes_of(m), "mem.onnx", layers), pmdi::decode_error);
  m = matmul_model();
  m.mutable_graph()->mutable_node(2)->set_input(0, "flat");  // Add a constant to a non-MatMul output
  CHECK_THROWS_WITH(pmdi::io::load_onnx(bytes_of(m), "mem.onnx", layers),
                    Contains("node 2 'bias' (Add, opset 13): adds a constant to 'flat'"));
  m = matmul_model();
  m.mutable_graph()->mutable_node(1)->set_domain("com.example");
  CHECK_THROWS_WITH(pmdi::io::load_onnx(bytes_of(m), "mem.onnx", layers),
                    Contains("(MatMul, opset 13): op domain 'com.example' is not supported"));
  m = matmul_model();
  m.mutable_opset_import(0)->set_version(7);
  CHECK_THROWS_WITH(pmdi::io::load_onnx(bytes_of(m), "mem.onnx", layers),
                    Contains("mem.onnx: opset 7 is outside the range pmdi reads (9 to 21)"));
  m = matmul_model();
  m.mutable_graph()->mutable_output(0)->set_name("act");
  CHECK_THROWS_WITH(pmdi::io::load_onnx(bytes_of(m), "mem.onnx", layers),
                    Contains("mem.onnx: the graph output 'act' is not the last layer's output"));
}
