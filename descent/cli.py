"""The ``descent`` command."""

from __future__ import annotations

import argparse
import sys

import descent as ds


def demo(out=sys.stdout) -> float:
    """A gradient by backpropagation, then a one-parameter regression by gradient descent.

    Returns the fitted slope.
    """
    say = out.write
    say("1. A gradient through a small graph\n")
    x = ds.tensor(2.0, requires_grad=True)
    w = ds.tensor(-3.0, requires_grad=True)
    y = (x * w).exp() + x * x  # y = e^(xw) + x^2
    y.backward()
    say(f"   y = exp(x*w) + x^2 at x = 2, w = -3: y = {y.item():.6f}\n")
    say(f"   dy/dx = w e^(xw) + 2x = {x.grad.item():.6f}\n")
    say(f"   dy/dw = x e^(xw)      = {w.grad.item():.6f}\n\n")

    say("2. Gravity: fit y = a x to (2, 19.6), (4.5, 44.1), (10, 98) by gradient descent\n")
    xs = ds.tensor([2.0, 4.5, 10.0], dtype=ds.float64)
    ys = ds.tensor([19.6, 44.1, 98.0], dtype=ds.float64)
    a = ds.tensor(8.0, dtype=ds.float64, requires_grad=True)
    lr = 0.003
    say(f"   loss J(a) = sum (a x - y)^2, start a = 8, learning rate {lr}\n")
    say(f"   {'step':>4}  {'a':>10}  {'J(a)':>12}  {'dJ/da':>12}\n")
    for step in range(12):
        loss = ((a * xs - ys) ** 2).sum()
        loss.backward()
        say(f"   {step:>4}  {a.item():>10.6f}  {loss.item():>12.6f}  {a.grad.item():>12.6f}\n")
        with ds.no_grad():
            a -= lr * a.grad
        a.zero_grad()
    closed = (xs * ys).sum().item() / (xs * xs).sum().item()
    say(f"   after 12 steps a = {a.item():.6f}; closed form sum(xy)/sum(x^2) = {closed:.6f}\n")
    return a.item()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="descent", description="descent: learning from data by gradient descent."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("demo", help="backpropagation and gradient descent on a worked example")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo()
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
