#pragma once
// Reading an ONNX model (protobuf, via onnx_proto): parsing with the opset
// checked, attributes, and tensors (float32 or int64, raw or typed, inside the
// model only) checked for shape, size and finite values. The errors name the
// file, the node and its op: pmdi::usage_error for what pmdi does not read,
// pmdi::decode_error for malformed bytes. io/onnx.hpp walks the graph with it.
#include <onnx/onnx_pb.h>

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
#include <string>
#include <string_view>
#include <vector>

#include "pmdi/core/error.hpp"

namespace pmdi::io::detail {

inline std::string dims_str(const std::vector<std::int64_t>& d) {
  std::string s;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(d[i]);
  }
  return s.empty() ? "scalar" : s;
}

inline std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw usage_error(path.string() + ": cannot open the file");
  std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(c.size());
  if (!c.empty()) std::memcpy(b.data(), c.data(), c.size());
  return b;
}

// One ONNX model as read from its bytes: the graph, its initializers and
// Constant values by name, the node being read, and the errors that name the
// file, the node (index and name), its op and the opset.
class onnx_model_reader {
 public:
  // Opsets whose semantics of the ops above the loader follows (BatchNormalization
  // lost `spatial` in 9, Dropout's ratio became an input in 12, Pad's pads in 11).
  static constexpr std::int64_t min_opset = 9, max_opset = 21;

  explicit onnx_model_reader(std::string file) : file_(std::move(file)) {}

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

  [[nodiscard]] std::int64_t opset() const noexcept { return opset_; }

 protected:
  // ---- errors -------------------------------------------------------------
  [[nodiscard]] std::string where() const {
    if (!node_) return file_ + ": ";
    return file_ + ": node " + std::to_string(node_index_) + " '" + node_->name() + "' (" + node_->op_type() +
           ", opset " + std::to_string(opset_) + "): ";
  }
  [[noreturn]] void fail(const std::string& what) const { throw usage_error(where() + what); }
  [[noreturn]] void fail_bytes(const std::string& what) const { throw decode_error(where() + what); }
  [[noreturn]] void fail_file(const std::string& what) const { throw usage_error(file_ + ": " + what); }

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

  std::string file_;
  onnx::ModelProto model_;
  std::int64_t opset_ = 0;
  std::map<std::string, const onnx::TensorProto*> tensors_;  // initializers and Constant values, inside model_
  const onnx::NodeProto* node_ = nullptr;
  int node_index_ = 0;
};

}  // namespace pmdi::io::detail
