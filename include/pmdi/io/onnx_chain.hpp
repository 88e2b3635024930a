#pragma once
// The chain of layers an ONNX graph walk infers (io/onnx.hpp walks it), checked
// layer by layer against the declared network.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/tensor.hpp"
#include "pmdi/io/cpp_type.hpp"
#include "pmdi/io/onnx_model.hpp"
#include "pmdi/nn/layer_info.hpp"

namespace pmdi::io::detail {

// The chain of layers a graph walk infers: where each tensor comes from, the
// current shape, and (with a declaration) each inferred layer checked against
// the declared one; the weights collected on the way.
class onnx_chain : public onnx_model_reader {
 public:
  onnx_chain(std::string file, std::span<const nn::layer_info> declared)
      : onnx_model_reader(std::move(file)), declared_(declared), check_(!declared.empty()) {}

  [[nodiscard]] const std::vector<nn::layer_info>& layers() const noexcept { return layers_; }
  [[nodiscard]] nn::model_weights take_weights() { return std::move(weights_); }

 protected:
  [[nodiscard]] static std::string layer_ref(const nn::layer_info& l) {
    return (l.name.empty() ? layer_spelling(l) : l.name) + " (layer " + std::to_string(l.index) + ")";
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


  // A no-op: the output names the same layer's result as the input.
  void alias() {
    if (node_->output_size() < 1) fail("has no output");
    producer_[node_->output(0)] = in_from_;
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


  std::span<const nn::layer_info> declared_;
  bool check_;
  std::map<std::string, std::size_t> producer_;  // tensor name -> index into layers_
  std::size_t in_from_ = 0;
  std::vector<bool> flat_of_;
  shape3 shape_{};
  bool flat_ = false;
  std::size_t next_ = 0;
  std::vector<nn::layer_info> layers_;
  nn::model_weights weights_;
};

}  // namespace pmdi::io::detail
