"""Play production: send customers to ``loopml serve`` and, one window later, their true labels.

From ``--drift-from`` on, the customers drift (younger, more month-to-month, heavier data use)
and so does why they leave (a competitor pays exit fees): the monitor sees the data drift at
once and the f1 drop when the late labels land, and the loop retrains on the labelled traffic.

    python traffic.py --url http://127.0.0.1:8080 --windows 12 --drift-from 4
"""

import argparse
import time

from loopml.datasets import CHURN_FEATURES, CHURN_TARGET, make_churn
from loopml.serve import Client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the server")
    parser.add_argument("--windows", type=int, default=12, help="how many batches to send")
    parser.add_argument("--rows", type=int, default=500, help="customers per batch")
    parser.add_argument("--drift-from", type=int, default=4, help="first drifted batch")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between batches")
    args = parser.parse_args()
    client = Client(args.url)
    late: tuple[list[str], list[int]] | None = None
    for window in range(args.windows):
        drift = 1.0 if window >= args.drift_from else 0.0
        customers = make_churn(
            args.rows, seed=1_000 + window, covariate_drift=drift, concept_drift=drift
        )
        answer = client.predict(customers[list(CHURN_FEATURES)])
        if late is not None:
            client.feedback(*late)  # last batch's customers have now stayed or left
        late = (answer["prediction_ids"], customers[CHURN_TARGET].tolist())
        served = answer["model"]["version"]
        print(f"batch {window}: {args.rows} customers, drift {drift:g}, model version {served}")
        time.sleep(args.pause)
    if late is not None:
        client.feedback(*late)


if __name__ == "__main__":
    main()
