# Singular values of a matrix: the reference for the SVD truncation of
# combined LoRA updates. Reads {"rows", "cols", "data"} (row-major) and writes
# the singular values, largest first.
import json
import sys

import numpy as np

d = json.load(sys.stdin)
a = np.array(d["data"], dtype=np.float64).reshape(d["rows"], d["cols"])
json.dump(np.linalg.svd(a, compute_uv=False).tolist(), sys.stdout)
