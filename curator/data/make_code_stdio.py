"""Writes curator/data/code_stdio.jsonl: stdin/stdout problems written for this project, in APPS/TACO's layout.

Each row has ``question``, ``solutions`` (a reference program), ``input_output`` (JSON text with
``inputs`` and ``outputs``, as APPS and TACO store it) and ``difficulty``. Outputs are produced by
running the reference solutions once here; the tests run them again in the sandbox.
Run: ``python -m curator.data.make_code_stdio``.
"""

import json
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).with_name("code_stdio.jsonl")
P: list[dict] = []
def add(pid: str, q: str, sol: str, inputs: list[str], difficulty: str) -> None:
    """One problem: its outputs come from running the reference solution on each input."""
    outs = [subprocess.run([sys.executable, "-c", sol], input=i, capture_output=True, text=True, check=True).stdout for i in inputs]
    P.append({"id": pid, "question": q, "solutions": [sol],
              "input_output": json.dumps({"inputs": inputs, "outputs": outs}), "difficulty": difficulty,
              "domain": "code", "source": "curator-code-stdio"})

def main() -> None:
    add("stdio-001", "Read two integers a and b on one line and print their sum.",
        "a, b = map(int, input().split())\nprint(a + b)\n", ["1 2\n", "-5 5\n", "1000000000 1000000000\n", "0 0\n"], "EASY")
    add("stdio-002", "Read a line of text and print it reversed.",
        "print(input()[::-1])\n", ["hello\n", "abc def\n", "a\n"], "EASY")
    add("stdio-003", "The first line holds n, the second n integers. Print the largest and the smallest, separated by a space.",
        "n = int(input())\nxs = list(map(int, input().split()))\nprint(max(xs), min(xs))\n", ["3\n1 2 3\n", "1\n-7\n", "5\n4 -1 9 9 0\n"], "EASY")
    add("stdio-004", "Read n and print the n-th Fibonacci number (F(0) = 0, F(1) = 1). 0 <= n <= 90.",
        "n = int(input())\na, b = 0, 1\nfor _ in range(n):\n    a, b = b, a + b\nprint(a)\n", ["0\n", "1\n", "10\n", "90\n"], "EASY")
    add("stdio-005", "Read a positive integer n and print n! modulo 1000000007.",
        "n = int(input())\nr = 1\nfor i in range(2, n + 1):\n    r = r * i % 1000000007\nprint(r)\n", ["1\n", "5\n", "20\n", "100000\n"], "MEDIUM")
    add("stdio-006", "Read the radius r of a circle (a real number) and print its area with at least 6 correct digits after the decimal point.",
        "import math\nr = float(input())\nprint(f'{math.pi * r * r:.9f}')\n", ["1\n", "2.5\n", "0.1\n"], "EASY")
    add("stdio-007", "The first line holds n, the next n lines one word each. Print the words sorted alphabetically, one per line.",
        "n = int(input())\nws = [input().strip() for _ in range(n)]\nprint('\\n'.join(sorted(ws)))\n", ["3\npear\napple\nfig\n", "1\nz\n", "4\nb\na\nd\nc\n"], "EASY")
    add("stdio-008", "Read an integer n (1 <= n <= 10^12) and print YES if it is prime, NO otherwise.",
        "n = int(input())\ndef prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n        if n % i == 0:\n            return False\n        i += 1\n    return True\nprint('YES' if prime(n) else 'NO')\n",
        ["2\n", "1\n", "97\n", "1000000007\n", "999999999989\n"], "MEDIUM")
    add("stdio-009", "The first line holds n, the second n integers. Print the length of the longest strictly increasing contiguous run.",
        "n = int(input())\nxs = list(map(int, input().split()))\nbest = cur = 1\nfor i in range(1, n):\n    cur = cur + 1 if xs[i] > xs[i - 1] else 1\n    best = max(best, cur)\nprint(best)\n",
        ["5\n1 2 3 1 2\n", "1\n5\n", "6\n3 2 1 0 -1 -2\n", "4\n1 2 3 4\n"], "EASY")
    add("stdio-010", "Read n and print the n x n multiplication table: row i holds i*1 ... i*n separated by spaces.",
        "n = int(input())\nfor i in range(1, n + 1):\n    print(' '.join(str(i * j) for j in range(1, n + 1)))\n", ["1\n", "3\n", "5\n"], "EASY")
    add("stdio-011", "Read a line of integers and print their mean with 4 digits after the decimal point.",
        "xs = list(map(int, input().split()))\nprint(f'{sum(xs) / len(xs):.4f}')\n", ["1 2\n", "1 2 3 4\n", "7\n", "1 1 2\n"], "EASY")
    add("stdio-012", "Read n (1 <= n <= 10^5) and then n integers. Print how many pairs i < j have a_i + a_j == 0.",
        "from collections import Counter\nn = int(input())\nc = Counter(map(int, input().split()))\nr = c[0] * (c[0] - 1) // 2 + sum(c[x] * c[-x] for x in c if x > 0)\nprint(r)\n",
        ["4\n1 -1 2 -2\n", "3\n0 0 0\n", "2\n1 2\n", "5000\n" + " ".join(str((i % 1000) - 500) for i in range(5000)) + "\n"], "HARD")
    with OUT.open("w") as fh:
        for p in P:
            fh.write(json.dumps(p) + "\n")
    print(len(P))


if __name__ == "__main__":
    main()
