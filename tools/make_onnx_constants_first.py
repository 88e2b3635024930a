#!/usr/bin/python3
# Writes tests/data/onnx/minionn_constants_first.onnx: the shipped MiniONN model
# with its Constant nodes (the Pad amounts) moved to the top of the graph. A
# valid model (onnx.checker accepts it) whose constants the loader must keep
# while it reads later ones (heap-use-after-free).
#   /usr/bin/python3 tools/make_onnx_constants_first.py [IN] [OUT]
import sys

import onnx

src = sys.argv[1] if len(sys.argv) > 1 else "examples/models/minionn_fashion.onnx"
dst = sys.argv[2] if len(sys.argv) > 2 else "tests/data/onnx/minionn_constants_first.onnx"
m = onnx.load(src)
nodes = list(m.graph.node)
consts = [n for n in nodes if n.op_type == "Constant"]
if len(consts) < 2:
    sys.exit(f"{src}: expected at least two Constant nodes, found {len(consts)}")
rest = [n for n in nodes if n.op_type != "Constant"]
del m.graph.node[:]
m.graph.node.extend(consts + rest)
onnx.checker.check_model(m, full_check=True)
onnx.save(m, dst)
print(f"{dst}: {len(consts)} constants first, {len(rest)} other nodes; onnx.checker accepts it")
