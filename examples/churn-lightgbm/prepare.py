"""Version the base training data: 3,000 synthetic telecom customers, about 29% of whom churn.

Run once after ``loopml init``; run again (with another seed) to add a newer version: the loop
always trains on ``churn@latest`` plus the labelled production traffic.
"""

import loopml
from loopml.datasets import make_churn

ROWS = 3_000

if __name__ == "__main__":
    customers = make_churn(ROWS, seed=0).drop(columns=["customer_id"])
    version = loopml.data.add("churn", customers, description="customers before any drift")
    print(f"versioned {len(customers)} customers as {version.ref}")
