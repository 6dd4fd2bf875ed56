"""Array functions NumPy lacks: erf, vectorised, to float64 round-off, without SciPy.

The method and its coefficients are those of Sun Microsystems' fdlibm ``s_erf.c`` (1993),
the error function of most C libraries: on four ranges of |x| a rational function in x^2,
(|x| - 1) or 1/x^2, each accurate to below one unit in the last place of a float64.

- |x| < 0.84375:       erf(x) = x + x R(x^2)
- 0.84375 <= |x| < 1.25: erf(x) = erx + P(|x| - 1) / Q(|x| - 1), erx = erf(1) rounded to 24 bits
- 1.25 <= |x| < 6:     erfc(x) = exp(-x^2 - 0.5625 + R(1/x^2) / S(1/x^2)) / x, two rational
                       functions split at 1/0.35; erf = 1 - erfc
- 6 <= |x|:            erf(x) = 1 (erfc(6) < 2^-54)
"""

from __future__ import annotations

import math

import numpy as np

_SMALL = 256  # arrays of at most this many elements go through math.erf
_ERX = 8.45062911510467529297e-01
# erf on [0, 0.84375]: x + x * P(z) / Q(z), z = x^2
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)  # fmt: skip
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)  # fmt: skip
# erf on [0.84375, 1.25]: erx + P(s) / Q(s), s = |x| - 1
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)  # fmt: skip
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02,
       1.19844998467991074170e-02)  # fmt: skip
# erfc on [1.25, 1/0.35]: R(s) / S(s), s = 1 / x^2
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e01,
       -6.23753324503260060396e01, -1.62396669462573470355e02, -1.84605092906711035994e02,
       -8.12874355063065934246e01, -9.81432934416914548592e00)  # fmt: skip
_SA = (1.0, 1.96512716674392571292e01, 1.37657754143519042600e02, 4.34565877475229228821e02,
       6.45387271733267880336e02, 4.29008140027567833386e02, 1.08635005541779435134e02,
       6.57024977031928170135e00, -6.04244152148580987438e-02)  # fmt: skip
# erfc on [1/0.35, 6]
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e01,
       -1.60636384855821916062e02, -6.37566443368389627722e02, -1.02509513161107724954e03,
       -4.83519191608651397019e02)  # fmt: skip
_SB = (1.0, 3.03380607434824582924e01, 3.25792512996573918826e02, 1.53672958608443695994e03,
       3.19985821950859553908e03, 2.55305040643316442583e03, 4.74528541206955367215e02,
       -2.24409524465858183362e01)  # fmt: skip


def _poly(coeffs: tuple, z: np.ndarray) -> np.ndarray:
    """$c_0 + c_1 z + c_2 z^2 + ...$ by Horner's rule, in place on one new array."""
    out = z * coeffs[-1]
    out += coeffs[-2]
    for c in coeffs[-3::-1]:
        out *= z
        out += c
    return out


def _ratio(p: tuple, q: tuple, z: np.ndarray) -> np.ndarray:
    out = _poly(p, z)
    out /= _poly(q, z)
    return out


def _tail(a: np.ndarray, r: tuple, s: tuple) -> np.ndarray:
    """erfc(a) for 1.25 <= a < 6: $e^{-a^2 - 0.5625 + R/S} / a$, R and S in $1/a^2$.

    NOTE: fdlibm's erfc splits a^2 so that exp's argument is exact; erf = 1 - erfc needs
    no such care: erfc(a) a^2 < 0.13 for a >= 1.25, so the rounding of a^2 moves the
    result by less than a quarter of its last place."""
    a2 = a * a
    out = _ratio(r, s, 1.0 / a2)
    out -= a2
    out -= 0.5625
    np.exp(out, out=out)
    out /= a
    return out


def erf(x: np.ndarray) -> np.ndarray:
    """The error function of every element, in x's floating dtype (computed in float64)."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    if x.size <= _SMALL:
        # NOTE: on a few elements the C library's erf, one call each, is faster than the
        # thirty-odd array operations below; both are within one unit in the last place
        values = [math.erf(v) for v in x.ravel().tolist()]
        return np.array(values, dtype=dtype).reshape(x.shape)
    a = np.abs(x, dtype=np.float64).ravel()
    out = np.ones(a.shape)  # |x| >= 6 and inf; NaN is set below
    # each range gets its elements by index (cheaper than boolean masks on both sides)
    i = np.flatnonzero(a < 0.84375)
    v = a.take(i)
    out[i] = v + v * _ratio(_PP, _QQ, v * v)
    i = np.flatnonzero((a >= 0.84375) & (a < 1.25))
    out[i] = _ERX + _ratio(_PA, _QA, a.take(i) - 1.0)
    i = np.flatnonzero((a >= 1.25) & (a < 1 / 0.35))
    out[i] = 1.0 - _tail(a.take(i), _RA, _SA)
    i = np.flatnonzero((a >= 1 / 0.35) & (a < 6))
    out[i] = 1.0 - _tail(a.take(i), _RB, _SB)
    out[np.isnan(a)] = np.nan
    out = np.copysign(out.reshape(x.shape), x)
    return out.astype(dtype, copy=False)
