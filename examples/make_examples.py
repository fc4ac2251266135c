#!/usr/bin/env python3
"""Writes the example files the README's guide uses (deterministic: seed 2026). Synthetic data:
no real patients, people or events.

  xray.tsv    4000 chest X-ray images with multi-label findings ('|'-separated), imbalanced as
              in public X-ray collections (Hernia in about 0.2% of images)
  people.tsv  2000 people: name, age, zip code (groups of very different sizes), salary
  coin.tsv    a biased coin: heads weighs 3, tails 1
  events.tsv  5000 events: id, user, label, weight

    python3 examples/make_examples.py     # rewrites the files in examples/
"""

import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
FINDINGS = [("Infiltration", 18.0), ("Effusion", 12.0), ("Atelectasis", 10.0), ("Nodule", 6.0),
            ("Pneumothorax", 5.0), ("Emphysema", 2.2), ("Edema", 2.0), ("Fibrosis", 1.5),
            ("Pneumonia", 1.3), ("Hernia", 0.2)]


def write(name, header, rows):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        f.write("\t".join(header) + "\n")
        for row in rows:
            f.write("\t".join(str(v) for v in row) + "\n")


def main():
    rng = random.Random(2026)
    xray = []
    for i in range(4000):
        found = [name for name, percent in FINDINGS if rng.random() < percent / 100 * 1.6]
        xray.append(("img%05d.png" % i, "p%04d" % rng.randrange(1500), rng.randint(1, 95),
                     "|".join(found) if found else "No Finding"))
    write("xray.tsv", ("image", "patient", "age", "findings"), xray)

    zips = ["98%03d" % rng.randrange(1000) for _ in range(40)]
    sizes = [rng.paretovariate(1.2) for _ in zips]
    people = []
    for i in range(2000):
        zip_code = rng.choices(zips, weights=sizes)[0]
        people.append(("person%04d" % i, rng.randint(18, 90), zip_code,
                       int(rng.lognormvariate(11, 0.5))))
    write("people.tsv", ("Name", "Age", "ZipCode", "Salary"), people)

    write("coin.tsv", ("side", "weight"), [("heads", 3), ("tails", 1)])

    labels = ["click", "view", "buy", "share"]
    events = [(i, "u%03d" % rng.randrange(300), rng.choices(labels, weights=[50, 40, 3, 7])[0],
               round(rng.expovariate(1.0), 3)) for i in range(5000)]
    write("events.tsv", ("id", "user", "label", "weight"), events)


if __name__ == "__main__":
    main()
