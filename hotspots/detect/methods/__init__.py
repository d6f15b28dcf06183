"""Hot spot inference methods, one module each, registered in :mod:`hotspots.detect.registry`.

Each module defines ``infer(problem, options) -> MethodResult`` (:mod:`hotspots.detect.problem`):
the exact tail test of local sums (:mod:`~hotspots.detect.methods.exact`, the default), the
analytic Gi* z (:mod:`~hotspots.detect.methods.analytic`), Monte Carlo under the exposure null
(:mod:`~hotspots.detect.methods.permutation`) and Gi* on empirical-Bayes smoothed rates
(:mod:`~hotspots.detect.methods.eb_rate`).
"""
