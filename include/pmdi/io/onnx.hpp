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
#include "pmdi/nn/layer_info.hpp"

namespace pmdi::io {

namespace detail {

inline std::string dims_str(const std::vector<std::int64_t>& d) {
  std::string s;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(d[i]);
  }
  return s.empty() ? "scalar" : s;
}

inline std::string kind_str(nn::layer_kind k) {
  switch (k) {
    case nn::layer_kind::input: return "input";
    case nn::layer_kind::conv2d: return "conv2d";
    case nn::layer_kind::dense: return "dense";
    case nn::layer_kind::relu: return "relu";
    case nn::layer_kind::meanpool: return "meanpool";
    case nn::layer_kind::maxpool: return "maxpool";
    case nn::layer_kind::flatten: return "flatten";
    case nn::layer_kind::batchnorm: return "batchnorm";
    case nn::layer_kind::residual_add: return "residual_add";
    case nn::layer_kind::argmax: return "argmax";
  }
  return "?";
}

// The C++ spelling of one layer, as the DSL writes it.
inline std::string layer_spelling(const nn::layer_info& l) {
  const auto n = [](std::size_t v) { return std::to_string(v); };
  switch (l.kind) {
    case nn::layer_kind::input: return "input<" + n(l.out.c) + ", " + n(l.out.h) + ", " + n(l.out.w) + ">";
    case nn::layer_kind::conv2d: {
      std::string s = l.kernel_h == l.kernel_w ? "conv2d<" + n(l.out_channels) + ", " + n(l.kernel_h)
                                               : "conv2d_rect<" + n(l.out_channels) + ", " + n(l.kernel_h) + ", " +
                                                     n(l.kernel_w);
      if (l.stride != 1 || l.pad != 0) s += ", " + n(l.stride);
      if (l.pad != 0) s += ", " + n(l.pad);
      return s + ">";
    }
    case nn::layer_kind::dense: return "dense<" + n(l.units) + ">";
    case nn::layer_kind::meanpool:
    case nn::layer_kind::maxpool:
      return std::string(l.kind == nn::layer_kind::meanpool ? "meanpool<" : "maxpool<") + n(l.kernel_h) +
             (l.stride != l.kernel_h ? ", " + n(l.stride) : std::string()) + ">";
    default: return kind_str(l.kind);
  }
}

// One graph walk. With `declared` empty it infers the layers (for the
// generator); otherwise every inferred layer is checked against the declared one.
class onnx_walker {
 public:
  // Opsets whose semantics of the ops above the loader follows (BatchNormalization
  // lost `spatial` in 9, Dropout's ratio became an input in 12, Pad's pads in 11).
  static constexpr std::int64_t min_opset = 9, max_opset = 21;

  onnx_walker(std::string file, std::span<const nn::layer_info> declared)
      : file_(std::move(file)), declared_(declared), check_(!declared.empty()) {}

  void parse(std::span<const std::byte> bytes) {
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw decode_error(file_ + ": file too large for an ONNX model (" + std::to_string(bytes.size()) + " bytes)");
    if (!model_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      throw decode_error(file_ + ": not a valid ONNX model (protobuf parse failed after " +
                         std::to_string(bytes.size()) + " bytes; truncated or not ONNX?)");
    for (const auto& op : model_.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
    if (opset_ <= 0) throw decode_error(file_ + ": the model imports no default-domain opset");
    if (opset_ < min_opset || opset_ > max_opset)
      throw usage_error(file_ + ": opset " + std::to_string(opset_) + " is outside the range pmdi reads (" +
                        std::to_string(min_opset) + " to " + std::to_string(max_opset) + ")");
    if (!model_.has_graph() || model_.graph().node_size() == 0)
      throw decode_error(file_ + ": the model has no graph nodes");
  }

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

  [[nodiscard]] const std::vector<nn::layer_info>& layers() const noexcept { return layers_; }
  [[nodiscard]] nn::model_weights take_weights() { return std::move(weights_); }
  [[nodiscard]] std::int64_t opset() const noexcept { return opset_; }

 private:
  // ---- errors -------------------------------------------------------------
  [[nodiscard]] std::string where() const {
    if (!node_) return file_ + ": ";
    return file_ + ": node " + std::to_string(node_index_) + " '" + node_->name() + "' (" + node_->op_type() +
           ", opset " + std::to_string(opset_) + "): ";
  }
  [[noreturn]] void fail(const std::string& what) const { throw usage_error(where() + what); }
  [[noreturn]] void fail_bytes(const std::string& what) const { throw decode_error(where() + what); }
  [[noreturn]] void fail_file(const std::string& what) const { throw usage_error(file_ + ": " + what); }

  [[nodiscard]] static std::string layer_ref(const nn::layer_info& l) {
    return (l.name.empty() ? layer_spelling(l) : l.name) + " (layer " + std::to_string(l.index) + ")";
  }

  // ---- attributes ---------------------------------------------------------
  [[nodiscard]] const onnx::AttributeProto* attr(std::string_view name) const {
    for (const auto& a : node_->attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  [[nodiscard]] std::vector<std::int64_t> ints(std::string_view name, std::vector<std::int64_t> def) const {
    const auto* a = attr(name);
    if (!a) return def;
    return {a->ints().begin(), a->ints().end()};
  }
  [[nodiscard]] std::int64_t int_attr(std::string_view name, std::int64_t def) const {
    const auto* a = attr(name);
    return a ? a->i() : def;
  }
  [[nodiscard]] float float_attr(std::string_view name, float def) const {
    const auto* a = attr(name);
    return a ? a->f() : def;
  }
  void no_auto_pad() const {
    if (const auto* a = attr("auto_pad"); a && a->s() != "NOTSET")
      fail("auto_pad " + a->s() + " is not supported; export with explicit pads");
  }

  // ---- tensors ------------------------------------------------------------
  struct weights_t {
    std::vector<std::int64_t> dims;
    std::vector<float> data;
  };

  [[nodiscard]] weights_t tensor(const onnx::TensorProto& t) const {
    weights_t w;
    w.dims.assign(t.dims().begin(), t.dims().end());
    std::size_t n = 1;
    for (auto d : w.dims) {
      if (d < 0 || d > (std::int64_t{1} << 31)) fail_bytes("tensor '" + t.name() + "' has dimension " + std::to_string(d));
      n *= static_cast<std::size_t>(d);
      if (n > (std::size_t{1} << 31)) fail_bytes("tensor '" + t.name() + "' is too large");
    }
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
      fail("tensor '" + t.name() + "' is stored in an external file; export with the weights inside the model");
    if (t.data_type() == onnx::TensorProto::FLOAT) {
      if (t.has_raw_data()) {
        if (t.raw_data().size() != 4 * n)
          fail_bytes("tensor '" + t.name() + "' of shape " + dims_str(w.dims) + " needs " + std::to_string(4 * n) +
                     " bytes but holds " + std::to_string(t.raw_data().size()));
        w.data.resize(n);
        for (std::size_t i = 0; i < n; ++i) {  // raw_data is little-endian
          const auto* p = reinterpret_cast<const unsigned char*>(t.raw_data().data()) + 4 * i;
          const std::uint32_t u = std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
                                  std::uint32_t{p[3]} << 24;
          std::memcpy(&w.data[i], &u, 4);
        }
      } else {
        if (static_cast<std::size_t>(t.float_data_size()) != n)
          fail_bytes("tensor '" + t.name() + "' of shape " + dims_str(w.dims) + " needs " + std::to_string(n) +
                     " floats but holds " + std::to_string(t.float_data_size()));
        w.data.assign(t.float_data().begin(), t.float_data().end());
      }
      for (float v : w.data)
        if (!std::isfinite(v)) fail_bytes("tensor '" + t.name() + "' holds a non-finite value");
    } else if (t.data_type() == onnx::TensorProto::INT64) {
      if (t.has_raw_data()) {
        if (t.raw_data().size() != 8 * n)
          fail_bytes("tensor '" + t.name() + "' of shape " + dims_str(w.dims) + " needs " + std::to_string(8 * n) +
                     " bytes but holds " + std::to_string(t.raw_data().size()));
        for (std::size_t i = 0; i < n; ++i) {
          const auto* p = reinterpret_cast<const unsigned char*>(t.raw_data().data()) + 8 * i;
          std::uint64_t u = 0;
          for (int b = 7; b >= 0; --b) u = u << 8 | p[b];
          w.data.push_back(static_cast<float>(static_cast<std::int64_t>(u)));
        }
      } else {
        if (static_cast<std::size_t>(t.int64_data_size()) != n)
          fail_bytes("tensor '" + t.name() + "' needs " + std::to_string(n) + " integers but holds " +
                     std::to_string(t.int64_data_size()));
        for (auto v : t.int64_data()) w.data.push_back(static_cast<float>(v));
      }
    } else {
      fail("tensor '" + t.name() + "' has ONNX data type " + std::to_string(t.data_type()) + ", pmdi reads float32");
    }
    return w;
  }

  [[nodiscard]] std::optional<weights_t> constant(std::string_view name) const {
    if (auto it = tensors_.find(std::string(name)); it != tensors_.end()) return tensor(*it->second);
    return std::nullopt;
  }
  [[nodiscard]] weights_t need_constant(int input, std::string_view what) const {
    if (node_->input_size() <= input || node_->input(input).empty()) fail("missing " + std::string(what));
    auto t = constant(node_->input(input));
    if (!t) fail(std::string(what) + " '" + node_->input(input) + "' is not an initializer or constant");
    return *std::move(t);
  }

  // ---- the chain ------------------------------------------------------------
  void start_input(const onnx::GraphProto& g) {
    const onnx::ValueInfoProto* in = nullptr;
    for (const auto& v : g.input())
      if (!tensors_.count(v.name())) {
        if (in) fail_file("the graph has more than one data input ('" + in->name() + "', '" + v.name() + "')");
        in = &v;
      }
    if (!in) fail_file("the graph has no data input");
    if (!in->type().has_tensor_type() || in->type().tensor_type().elem_type() != onnx::TensorProto::FLOAT)
      fail_file("input '" + in->name() + "' is not a float tensor");
    std::vector<std::int64_t> d;
    for (const auto& dim : in->type().tensor_type().shape().dim())
      d.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
    if (d.size() == 4 && d[1] > 0 && d[2] > 0 && d[3] > 0) {
      shape_ = {static_cast<std::size_t>(d[1]), static_cast<std::size_t>(d[2]), static_cast<std::size_t>(d[3])};
      flat_ = false;
    } else if (d.size() == 2 && d[1] > 0) {
      shape_ = {static_cast<std::size_t>(d[1]), 1, 1};
      flat_ = true;
    } else {
      fail_file("input '" + in->name() + "' has shape " + dims_str(d) + "; pmdi expects [N, C, H, W] or [N, features]");
    }
    nn::layer_info l;
    l.kind = nn::layer_kind::input;
    l.in = l.out = shape_;
    l.name = layer_spelling(l);
    if (check_) {
      const auto& want = declared_[0];
      if (want.kind != nn::layer_kind::input)
        throw usage_error(file_ + ": declared layer 0 is " + layer_ref(want) + ", expected the input");
      if (!(want.out == shape_) && !(flat_ && want.out.size() == shape_.size()))
        throw usage_error(file_ + ": input '" + in->name() + "' is " + shape_.str() + " but " + layer_ref(want) +
                          " declares " + want.out.str());
    }
    producer_[in->name()] = 0;
    layers_.push_back(l);
    flat_of_.push_back(flat_);
    next_ = 1;
  }

  // The layer whose output a tensor is (index into layers_).
  [[nodiscard]] std::size_t producer(const std::string& tensor) const {
    auto it = producer_.find(tensor);
    if (it == producer_.end()) fail("reads '" + tensor + "', which is neither the input nor a layer's output");
    return it->second;
  }
  // Reads the node's data input: sets the current shape from its producer and,
  // for a layer (not a no-op), checks that the declaration reads that layer too.
  void consume_chain(bool layer = true) {
    if (node_->input_size() < 1 || node_->input(0).empty()) fail("has no data input");
    in_from_ = producer(node_->input(0));
    shape_ = layers_[in_from_].out;
    flat_ = flat_of_[in_from_];
    if (layer && check_ && next_ < declared_.size() && declared_[next_].input_from != in_from_)
      fail("reads the output of layer " + std::to_string(in_from_) + " but " + layer_ref(declared_[next_]) +
           " reads layer " + std::to_string(declared_[next_].input_from));
  }

  // Matches the inferred layer against the next declared one and records it.
  const nn::layer_info& emit(nn::layer_info got) {
    got.index = layers_.size();
    got.name = layer_spelling(got);
    if (check_) {
      if (next_ >= declared_.size())
        fail("the declared network has " + std::to_string(declared_.size()) + " layers and ends before this " +
             layer_spelling(got));
      const auto& want = declared_[next_];
      if (want.kind != got.kind) {
        // A batch-norm in the graph may be already folded away in the declaration.
        fail("is " + got.name + " but the declared layer is " + layer_ref(want));
      }
      check_layer(got, want);
      got.index = want.index;
      got.name = want.name.empty() ? got.name : want.name;
      ++next_;
    }
    if (got.kind != nn::layer_kind::residual_add) got.input_from = in_from_;
    layers_.push_back(got);
    flat_of_.push_back(flat_);
    if (node_->output_size() < 1) fail("has no output");
    producer_[node_->output(0)] = layers_.size() - 1;
    return layers_.back();
  }

  void check_layer(const nn::layer_info& got, const nn::layer_info& want) const {
    const auto ref = layer_ref(want);
    const auto n = [](std::size_t v) { return std::to_string(v); };
    switch (got.kind) {
      case nn::layer_kind::conv2d:
        if (got.out_channels != want.out_channels || got.kernel_h != want.kernel_h || got.kernel_w != want.kernel_w ||
            got.in.c != want.in.c)
          fail("weight shape " + n(got.out_channels) + "x" + n(got.in.c) + "x" + n(got.kernel_h) + "x" +
               n(got.kernel_w) + " but " + ref + " declares " + n(want.out_channels) + "x" + n(want.in.c) + "x" +
               n(want.kernel_h) + "x" + n(want.kernel_w));
        if (got.stride != want.stride) fail("stride " + n(got.stride) + " but " + ref + " declares " + n(want.stride));
        if (got.pad != want.pad) fail("pad " + n(got.pad) + " but " + ref + " declares " + n(want.pad));
        break;
      case nn::layer_kind::dense:
        if (got.units != want.units || got.in.size() != want.in.size())
          fail("weight shape " + n(got.units) + "x" + n(got.in.size()) + " but " + ref + " declares " +
               n(want.units) + "x" + n(want.in.size()));
        break;
      case nn::layer_kind::meanpool:
      case nn::layer_kind::maxpool:
        if (got.kernel_h != want.kernel_h || got.kernel_w != want.kernel_w || got.stride != want.stride)
          fail("kernel " + n(got.kernel_h) + "x" + n(got.kernel_w) + " stride " + n(got.stride) + " but " + ref +
               " declares kernel " + n(want.kernel_h) + "x" + n(want.kernel_w) + " stride " + n(want.stride));
        break;
      case nn::layer_kind::residual_add:
        if (got.skip_from != want.skip_from)
          fail("adds the output of layer " + n(got.skip_from) + " but " + ref + " declares layer " + n(want.skip_from));
        break;
      default: break;
    }
    const bool same = got.out == want.out || (flat_shape(got) && got.out.size() == want.out.size());
    if (!same)
      fail("yields " + got.out.str() + " but " + ref + " declares " + want.out.str() + " (input " + want.in.str() +
           ")");
  }
  [[nodiscard]] static bool flat_shape(const nn::layer_info& l) {
    return l.kind == nn::layer_kind::flatten || l.kind == nn::layer_kind::dense || l.out.h * l.out.w == 1;
  }

  [[nodiscard]] nn::layer_info base(nn::layer_kind k, bool linear) const {
    nn::layer_info l;
    l.kind = k;
    l.in = l.out = shape_;
    l.linear = linear;
    return l;
  }

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

  // A no-op: the output names the same layer's result as the input.
  void alias() {
    if (node_->output_size() < 1) fail("has no output");
    producer_[node_->output(0)] = in_from_;
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

  // Conv parameters are compared before the input-channel check, so the
  // message names the declared kernel first (the most common mistake).
  void check_layer_params(const nn::layer_info& got) const {
    auto g = got;
    g.out = declared_[next_].out;  // shapes are checked after inference
    check_layer(g, declared_[next_]);
  }

  void push_weights(std::size_t index, std::vector<float> w, std::vector<float> b) {
    nn::layer_weights lw;
    lw.layer_index = index;
    lw.weight = std::move(w);
    lw.bias = std::move(b);
    weights_.layers.push_back(std::move(lw));
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

  std::string file_;
  std::span<const nn::layer_info> declared_;
  bool check_;
  onnx::ModelProto model_;
  std::int64_t opset_ = 0;
  std::map<std::string, const onnx::TensorProto*> tensors_;  // initializers and Constant values, inside model_
  std::map<std::string, std::size_t> producer_;  // tensor name -> index into layers_
  const onnx::NodeProto* node_ = nullptr;
  int node_index_ = 0;
  std::string matmul_out_;
  std::size_t in_from_ = 0;
  std::vector<bool> flat_of_;
  shape3 shape_{};
  bool flat_ = false;
  std::size_t next_ = 0;
  std::vector<nn::layer_info> layers_;
  nn::model_weights weights_;
};

inline std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw usage_error(path.string() + ": cannot open the file");
  std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(c.size());
  if (!c.empty()) std::memcpy(b.data(), c.data(), c.size());
  return b;
}

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

// The C++ type of a layer list (as describe<Net>() or describe_onnx lays it
// out: a residual block's body, then its shortcut, then the add), one
// top-level layer per line:
//   using net = pmdi::nn::sequential<
//       pmdi::nn::input<1, 28, 28>,
//       pmdi::nn::residual<pmdi::nn::conv2d<4, 3, 1, 1>, ..., pmdi::nn::shortcut<...>>,
//       ...>;
[[nodiscard]] inline std::string cpp_type(std::span<const nn::layer_info> layers, const std::string& alias = "net") {
  struct item {
    std::size_t first;  // index of the first layer the item spells
    std::string text;
  };
  std::vector<item> items;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    if (l.kind != nn::layer_kind::residual_add) {
      items.push_back({i, "pmdi::nn::" + detail::layer_spelling(l)});
      continue;
    }
    // Block input X: where the add's two chains meet.
    auto chain = [&](std::size_t k) {
      std::vector<std::size_t> c{k};
      while (k > 0) c.push_back(k = layers[k].input_from);
      return c;
    };
    const auto a = chain(l.input_from), b = chain(l.skip_from);
    std::size_t x = 0;
    for (auto k : a)
      if (std::find(b.begin(), b.end(), k) != b.end()) {
        x = k;
        break;
      }
    // The shortcut's first layer reads X and comes after the body.
    std::size_t sc = i;
    if (l.skip_from != x)
      for (std::size_t k = x + 2; k < i; ++k)
        if (layers[k].input_from == x) {
          sc = k;
          break;
        }
    std::string body, shortcut;
    while (!items.empty() && items.back().first > x) {
      auto& s = items.back().first >= sc ? shortcut : body;
      s = items.back().text + (s.empty() ? "" : ", ") + s;
      items.pop_back();
    }
    if (body.empty()) throw usage_error("cpp_type: residual add (layer " + std::to_string(i) + ") has an empty body");
    items.push_back({x + 1, "pmdi::nn::residual<" + body + (shortcut.empty() ? "" : ", pmdi::nn::shortcut<" + shortcut + ">") + ">"});
  }
  std::string s = "using " + alias + " = pmdi::nn::sequential<";
  for (std::size_t i = 0; i < items.size(); ++i) s += std::string(i ? "," : "") + "\n    " + items[i].text;
  return s + ">;\n";
}

}  // namespace pmdi::io
