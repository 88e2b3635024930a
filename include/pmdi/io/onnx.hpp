#pragma once
// ONNX weight loader: reads a model exported by PyTorch (or any exporter of
// plain opset-13-style graphs) and checks every node and tensor against the
// declared network (nn::describe<Net>(), or a hand-made layer_info list).
//
//   auto w = pmdi::io::load_onnx("minionn_fashion.onnx", pmdi::nn::describe<net>());
//
// Supported graph: a chain of nodes (plus residual Add) over one float input.
//   Conv, Gemm, MatMul (+ Add bias), Relu, AveragePool, MaxPool, Flatten,
//   Reshape (to [N, -1] only), BatchNormalization (a declared batchnorm
//   keeps its parameters; an undeclared one is folded into the conv2d or
//   dense it follows), Add of two activations (residual), ArgMax.
//   Identity, Dropout, Constant and all-zero Pad are no-ops.
// Anything else is refused by name. Mismatches with the declared type are
// pmdi::usage_error, malformed bytes pmdi::decode_error; both name the file,
// the node (index and name), its op and the opset, e.g.
//   minionn_fashion.onnx: node 3 'Conv_3' (Conv, opset 13): weight shape
//   16x1x3x3 but conv2d<16, 5> (layer 1) declares 16x1x5x5
//
// Needs the pmdi::onnx CMake target (links onnx_proto, protobuf); pmdi::pmdi
// itself never includes this header.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/tensor.hpp"
#include "pmdi/io/cpp_type.hpp"
#include "pmdi/io/onnx_chain.hpp"
#include "pmdi/io/onnx_model.hpp"
#include "pmdi/nn/layer_info.hpp"

namespace pmdi::io {

namespace detail {

// One graph walk. With `declared` empty it infers the layers (for the
// generator); otherwise every inferred layer is checked against the declared one.
class onnx_walker : public onnx_chain {
 public:
  using onnx_chain::onnx_chain;

  void walk() {
    const auto& g = model_.graph();
    for (const auto& t : g.initializer()) tensors_[t.name()] = &t;
    start_input(g);
    for (int i = 0; i < g.node_size(); ++i) {
      node_ = &g.node(i);
      node_index_ = i;
      step();
    }
    node_ = nullptr;
    if (g.output_size() != 1) fail_file("the graph has " + std::to_string(g.output_size()) + " outputs, pmdi expects one");
    const auto out = producer_.find(g.output(0).name());
    if (out == producer_.end() || out->second + 1 != layers_.size())
      fail_file("the graph output '" + g.output(0).name() + "' is not the last layer's output");
    if (check_ && next_ != declared_.size())
      throw usage_error(file_ + ": the graph ends but " + declared_[next_].name + " (layer " +
                        std::to_string(declared_[next_].index) + ") and " +
                        std::to_string(declared_.size() - next_ - 1) + " more declared layers have no node");
  }


 private:
  void step() {
    const std::string& op = node_->op_type();
    if (!node_->domain().empty() && node_->domain() != "ai.onnx")
      fail("op domain '" + node_->domain() + "' is not supported");
    if (op == "Constant") return constant_node();
    if (op == "Identity" || op == "Dropout") {
      consume_chain(false);
      if (op == "Dropout" && node_->input_size() >= 3 && !node_->input(2).empty()) {
        auto t = constant(node_->input(2));
        if (!t || (!t->data.empty() && t->data[0] != 0.0F)) fail("training_mode must be a constant false");
      }
      return alias();
    }
    if (op == "Pad") return pad();
    if (op == "Conv") return conv();
    if (op == "Gemm") return gemm();
    if (op == "MatMul") return matmul();
    if (op == "Add") return add();
    if (op == "Relu") {
      consume_chain();
      emit(base(nn::layer_kind::relu, false));
      return;
    }
    if (op == "AveragePool" || op == "MaxPool") return pool(op == "AveragePool");
    if (op == "Flatten") return flatten(int_attr("axis", 1) == 1 ? "" : "axis must be 1");
    if (op == "Reshape") return reshape();
    if (op == "BatchNormalization") return batchnorm();
    if (op == "ArgMax") return argmax();
    fail("unsupported op '" + op + "': pmdi reads Conv, Gemm, MatMul, Add, Relu, AveragePool, MaxPool, Flatten, "
         "Reshape, BatchNormalization, ArgMax, Identity, Dropout, Pad (zero), Constant");
  }

  void constant_node() {
    const auto* v = attr("value");
    if (!v || !v->has_t()) fail("only tensor-valued Constant nodes are supported");
    if (node_->output_size() != 1) fail("must have one output");
    // The tensor stays where it is, inside model_, which nothing changes
    // after parse(): the pointer lives as long as the walker. (A copy into a
    // growing vector dangled when a later Constant reallocated it.)
    tensors_[node_->output(0)] = &v->t();
  }

  void pad() {
    consume_chain(false);
    std::vector<std::int64_t> pads;
    if (node_->input_size() >= 2 && !node_->input(1).empty()) {
      for (float v : need_constant(1, "pads").data) pads.push_back(static_cast<std::int64_t>(v));
    } else {
      pads = ints("pads", {});
    }
    if (node_->input_size() >= 3 && !node_->input(2).empty()) {
      auto c = need_constant(2, "constant value");
      if (!c.data.empty() && c.data[0] != 0.0F) fail("only zero padding is supported");
    }
    for (auto p : pads)
      if (p != 0) fail("non-zero Pad is not supported; put the padding into the conv2d");
    alias();
  }

  void conv() {
    consume_chain();
    no_auto_pad();
    if (flat_) fail("reads a flat tensor; Conv needs C x H x W");
    auto w = need_constant(1, "weight");
    if (w.dims.size() != 4) fail("weight shape " + dims_str(w.dims) + " is not 4-dimensional (out x in x kh x kw)");
    if (int_attr("group", 1) != 1) fail("grouped convolutions are not supported");
    for (auto d : ints("dilations", {1, 1}))
      if (d != 1) fail("dilated convolutions are not supported");
    const auto ks = ints("kernel_shape", {w.dims[2], w.dims[3]});
    if (ks.size() != 2 || ks[0] != w.dims[2] || ks[1] != w.dims[3])
      fail("kernel_shape " + dims_str(ks) + " does not match weight shape " + dims_str(w.dims));
    const auto st = ints("strides", {1, 1});
    const auto pd = ints("pads", {0, 0, 0, 0});
    if (st.size() != 2 || st[0] != st[1] || st[0] < 1) fail("strides " + dims_str(st) + " must be equal and positive");
    if (pd.size() != 4 || std::any_of(pd.begin(), pd.end(), [&](auto p) { return p != pd[0]; }) || pd[0] < 0)
      fail("pads " + dims_str(pd) + " must be equal on all sides");
    auto l = base(nn::layer_kind::conv2d, true);
    l.out_channels = static_cast<std::size_t>(w.dims[0]);
    l.kernel_h = static_cast<std::size_t>(w.dims[2]);
    l.kernel_w = static_cast<std::size_t>(w.dims[3]);
    l.stride = static_cast<std::size_t>(st[0]);
    l.pad = static_cast<std::size_t>(pd[0]);
    l.in = shape_;
    l.in.c = static_cast<std::size_t>(w.dims[1]);  // compared with the declaration first
    if (check_ && declared_.size() > next_ && declared_[next_].kind == nn::layer_kind::conv2d) check_layer_params(l);
    if (w.dims[1] != static_cast<std::int64_t>(shape_.c))
      fail("weight shape " + dims_str(w.dims) + " reads " + std::to_string(w.dims[1]) + " channels but the input has " +
           shape_.str());
    if (shape_.h + 2 * l.pad < l.kernel_h || shape_.w + 2 * l.pad < l.kernel_w)
      fail("kernel " + dims_str({w.dims[2], w.dims[3]}) + " is larger than the padded input " + shape_.str());
    l.out = {l.out_channels, (shape_.h + 2 * l.pad - l.kernel_h) / l.stride + 1,
             (shape_.w + 2 * l.pad - l.kernel_w) / l.stride + 1};
    std::vector<float> bias(l.out_channels, 0.0F);
    if (node_->input_size() >= 3 && !node_->input(2).empty()) {
      auto b = need_constant(2, "bias");
      if (b.data.size() != l.out_channels)
        fail("bias has " + std::to_string(b.data.size()) + " values for " + std::to_string(l.out_channels) + " channels");
      bias = std::move(b.data);
    }
    shape_ = l.out;
    const auto& done = emit(l);
    push_weights(done.index, std::move(w.data), std::move(bias));
  }

  void dense_from(std::vector<float> w_out_in, std::size_t units, std::size_t in, std::vector<float> bias) {
    if (in != shape_.size())
      fail("weight shape " + std::to_string(units) + "x" + std::to_string(in) + " reads " + std::to_string(in) +
           " values but the input has " + std::to_string(shape_.size()) + " (" + shape_.str() + ")");
    if (!flat_) fail("reads a " + shape_.str() + " tensor; add a Flatten before the dense layer");
    auto l = base(nn::layer_kind::dense, true);
    l.units = units;
    l.out = {units, 1, 1};
    shape_ = l.out;
    const auto& done = emit(l);
    push_weights(done.index, std::move(w_out_in), std::move(bias));
  }

  void gemm() {
    consume_chain();
    if (float_attr("alpha", 1.0F) != 1.0F || float_attr("beta", 1.0F) != 1.0F)
      fail("alpha and beta must be 1");
    if (int_attr("transA", 0) != 0) fail("transA must be 0");
    auto w = need_constant(1, "weight");
    if (w.dims.size() != 2) fail("weight shape " + dims_str(w.dims) + " is not 2-dimensional");
    const bool tb = int_attr("transB", 0) != 0;
    const auto units = static_cast<std::size_t>(tb ? w.dims[0] : w.dims[1]);
    const auto in = static_cast<std::size_t>(tb ? w.dims[1] : w.dims[0]);
    if (check_ && next_ < declared_.size() && declared_[next_].kind == nn::layer_kind::dense &&
        (units != declared_[next_].units || in != declared_[next_].in.size()))
      fail("weight shape " + std::to_string(units) + "x" + std::to_string(in) + " but " + layer_ref(declared_[next_]) +
           " declares " + std::to_string(declared_[next_].units) + "x" + std::to_string(declared_[next_].in.size()));
    std::vector<float> bias(units, 0.0F);
    if (node_->input_size() >= 3 && !node_->input(2).empty()) {
      auto b = need_constant(2, "bias");
      if (b.data.size() != units)
        fail("bias has " + std::to_string(b.data.size()) + " values for " + std::to_string(units) + " units");
      bias = std::move(b.data);
    }
    dense_from(tb ? std::move(w.data) : transpose(w.data, in, units), units, in, std::move(bias));
  }

  void matmul() {
    consume_chain();
    auto w = need_constant(1, "weight");
    if (w.dims.size() != 2) fail("weight shape " + dims_str(w.dims) + " is not 2-dimensional");
    const auto in = static_cast<std::size_t>(w.dims[0]);
    const auto units = static_cast<std::size_t>(w.dims[1]);
    dense_from(transpose(w.data, in, units), units, in, std::vector<float>(units, 0.0F));
    matmul_out_ = node_->output(0);
  }

  [[nodiscard]] static std::vector<float> transpose(const std::vector<float>& a, std::size_t rows, std::size_t cols) {
    std::vector<float> t(a.size());
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) t[c * rows + r] = a[r * cols + c];
    return t;
  }

  void add() {
    if (node_->input_size() != 2) fail("must have two inputs");
    const auto& a = node_->input(0);
    const auto& b = node_->input(1);
    const bool ca = tensors_.count(a) != 0, cb = tensors_.count(b) != 0;
    if (ca || cb) {  // the bias of the MatMul just before
      const auto& data = ca ? b : a;
      if (data != matmul_out_ || matmul_out_.empty())
        fail("adds a constant to '" + data + "'; only a MatMul's bias can be added");
      auto bias = need_constant(ca ? 0 : 1, "bias");
      auto& lw = weights_.layers.back();
      if (bias.data.size() != lw.bias.size())
        fail("bias has " + std::to_string(bias.data.size()) + " values for " + std::to_string(lw.bias.size()) +
             " units");
      for (std::size_t i = 0; i < bias.data.size(); ++i) lw.bias[i] += bias.data[i];
      matmul_out_.clear();
      producer_[node_->output(0)] = producer(data);
      return;
    }
    // Residual: y = a + b, two earlier layers' outputs of the same shape.
    const std::size_t pa = producer(a), pb = producer(b);
    if (!(layers_[pa].out == layers_[pb].out))
      fail("adds " + layers_[pa].out.str() + " (layer " + std::to_string(pa) + ") to " + layers_[pb].out.str() +
           " (layer " + std::to_string(pb) + ")");
    auto l = base(nn::layer_kind::residual_add, true);
    l.input_from = std::max(pa, pb);  // describe<Net>(): the block's body ends after its shortcut input
    l.skip_from = std::min(pa, pb);
    if (check_ && next_ < declared_.size() && declared_[next_].kind == nn::layer_kind::residual_add) {
      const auto& want = declared_[next_];
      if (!((want.input_from == pa && want.skip_from == pb) || (want.input_from == pb && want.skip_from == pa)))
        fail("adds the outputs of layers " + std::to_string(pa) + " and " + std::to_string(pb) + " but " +
             layer_ref(want) + " adds layers " + std::to_string(want.input_from) + " and " +
             std::to_string(want.skip_from));
      l.input_from = want.input_from;
      l.skip_from = want.skip_from;
    }
    in_from_ = l.input_from;
    shape_ = l.in = l.out = layers_[pa].out;
    flat_ = flat_of_[pa];
    emit(l);
  }

  void pool(bool mean) {
    consume_chain();
    no_auto_pad();
    if (flat_) fail("reads a flat tensor; pooling needs C x H x W");
    const auto ks = ints("kernel_shape", {});
    const auto st = ints("strides", ks);
    const auto pd = ints("pads", {0, 0, 0, 0});
    if (ks.size() != 2 || ks[0] != ks[1] || ks[0] < 1) fail("kernel_shape " + dims_str(ks) + " must be square");
    if (st.size() != 2 || st[0] != st[1] || st[0] < 1) fail("strides " + dims_str(st) + " must be equal and positive");
    if (std::any_of(pd.begin(), pd.end(), [](auto p) { return p != 0; })) fail("padded pooling is not supported");
    if (int_attr("ceil_mode", 0) != 0) fail("ceil_mode is not supported");
    for (auto d : ints("dilations", {1, 1}))
      if (d != 1) fail("dilated pooling is not supported");
    if (!mean && node_->output_size() > 1 && !node_->output(1).empty()) fail("MaxPool indices are not supported");
    auto l = base(mean ? nn::layer_kind::meanpool : nn::layer_kind::maxpool, mean);
    l.kernel_h = l.kernel_w = static_cast<std::size_t>(ks[0]);
    l.stride = static_cast<std::size_t>(st[0]);
    if (shape_.h < l.kernel_h || shape_.w < l.kernel_w) fail("kernel is larger than the input " + shape_.str());
    l.out = {shape_.c, (shape_.h - l.kernel_h) / l.stride + 1, (shape_.w - l.kernel_w) / l.stride + 1};
    shape_ = l.out;
    emit(l);
  }

  void flatten(const std::string& problem) {
    consume_chain();
    if (!problem.empty()) fail(problem);
    make_flatten();
  }
  void make_flatten() {
    auto l = base(nn::layer_kind::flatten, true);
    l.out = {shape_.size(), 1, 1};
    shape_ = l.out;
    flat_ = true;
    emit(l);
  }

  void reshape() {
    consume_chain();
    auto s = need_constant(1, "shape");
    const auto n = static_cast<float>(shape_.size());
    if (s.data.size() != 2 || !(s.data[0] == 1 || s.data[0] == -1 || s.data[0] == 0) ||
        !(s.data[1] == -1 || s.data[1] == n))
      fail("reshape to " + dims_str({s.data.begin(), s.data.end()}) + " is not a flatten to [N, " +
           std::to_string(shape_.size()) + "]");
    make_flatten();
  }

  void batchnorm() {
    if (node_->output_size() > 1) fail("training-mode BatchNormalization (several outputs) is not supported");
    const bool declared_bn = check_ && next_ < declared_.size() && declared_[next_].kind == nn::layer_kind::batchnorm;
    consume_chain(declared_bn);
    const float eps = float_attr("epsilon", 1e-5F);
    auto gamma = need_constant(1, "scale"), beta = need_constant(2, "bias");
    auto mean = need_constant(3, "mean"), var = need_constant(4, "var");
    const std::size_t ch = shape_.c;
    for (const auto* t : {&gamma, &beta, &mean, &var})
      if (t->data.size() != ch)
        fail("parameter of shape " + dims_str(t->dims) + " for " + std::to_string(ch) + " channels (" + shape_.str() +
             ")");
    for (std::size_t o = 0; o < ch; ++o)
      if (!(var.data[o] + eps > 0.0F)) fail("variance + epsilon is not positive for channel " + std::to_string(o));
    if (declared_bn || !check_) {
      // Declared (or described): a batchnorm layer with its own parameters;
      // nn::fold_batchnorm folds it into the conv2d/dense before it.
      const auto& done = emit(base(nn::layer_kind::batchnorm, true));
      nn::layer_weights lw;
      lw.layer_index = done.index;
      lw.gamma = std::move(gamma.data);
      lw.beta = std::move(beta.data);
      lw.mean = std::move(mean.data);
      lw.var = std::move(var.data);
      lw.epsilon = eps;
      weights_.layers.push_back(std::move(lw));
      return;
    }
    // Not declared: fold it into the conv2d or dense whose output it reads.
    const auto& src = layers_[in_from_];
    nn::layer_weights* lw = nullptr;
    for (auto& e : weights_.layers)
      if (e.layer_index == src.index && (src.kind == nn::layer_kind::conv2d || src.kind == nn::layer_kind::dense))
        lw = &e;
    if (!lw || lw->bias.size() != ch)
      fail("reads the output of " + layer_ref(src) + "; an undeclared batch-norm must follow a conv2d or dense");
    // [ref] Ioffe, Szegedy: Batch Normalization, ICML 2015 (inference form):
    // y = gamma (x - mean) / sqrt(var + eps) + beta, folded into W and b.
    const std::size_t per = lw->weight.size() / ch;
    for (std::size_t o = 0; o < ch; ++o) {
      const float sc = gamma.data[o] / std::sqrt(var.data[o] + eps);
      for (std::size_t i = 0; i < per; ++i) lw->weight[o * per + i] *= sc;
      lw->bias[o] = (lw->bias[o] - mean.data[o]) * sc + beta.data[o];
    }
    alias();
  }

  void argmax() {
    consume_chain();
    if (!flat_) fail("reads a " + shape_.str() + " tensor; argmax needs a flat vector");
    if (int_attr("axis", 0) != 1 && int_attr("axis", 0) != -1) fail("axis must be 1 (the class axis)");
    if (int_attr("select_last_index", 0) != 0) fail("select_last_index is not supported");
    auto l = base(nn::layer_kind::argmax, false);
    l.out = {1, 1, 1};
    shape_ = l.out;
    emit(l);
  }

  std::string matmul_out_;  // a MatMul's output, waiting for its bias Add
};

}  // namespace detail

// Loads the weights of an ONNX model and checks them against the declared
// layers (declared[0] is the input). One entry per conv2d, dense and declared
// batchnorm (gamma, beta, mean, var, epsilon: nn::fold_batchnorm folds them).
// A BatchNormalization node that the declaration omits is folded here, in
// float, into the conv2d or dense whose output it reads.
[[nodiscard]] inline nn::model_weights load_onnx(std::span<const std::byte> bytes, const std::string& name,
                                                 std::span<const nn::layer_info> declared) {
  if (declared.empty()) throw usage_error(name + ": no declared layers to check the model against");
  detail::onnx_walker w(name, declared);
  w.parse(bytes);
  w.walk();
  return w.take_weights();
}

[[nodiscard]] inline nn::model_weights load_onnx(const std::filesystem::path& path,
                                                 std::span<const nn::layer_info> declared) {
  const auto bytes = detail::read_file(path);
  return load_onnx(bytes, path.filename().string(), declared);
}

// The layers an ONNX file describes (no declaration to check against): what
// the generator prints. Batch-norm nodes appear as batchnorm layers.
[[nodiscard]] inline std::vector<nn::layer_info> describe_onnx(const std::filesystem::path& path) {
  const auto bytes = detail::read_file(path);
  detail::onnx_walker w(path.filename().string(), {});
  w.parse(bytes);
  w.walk();
  return w.layers();
}

}  // namespace pmdi::io
