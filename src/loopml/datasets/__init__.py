"""Synthetic tabular data with drift you control, for demos, the quickstart and tests.

``make_churn`` draws a telecom customer table. Each customer gets a region, an age, a contract
(older customers sign longer ones), a tenure that follows the contract, a data usage that falls
with age, a payment method, monthly charges driven by usage, region and contract, support calls
that rise with the bill and late payments that come with electronic checks. Whether they churn
is a coin flip weighted by a logistic model: month-to-month contracts, short tenure, support
calls, high charges and late payments raise the odds, plus noise; about 29% churn.

Two knobs in [0, 1] move it away from that reference world:

- ``covariate_drift`` changes who the customers are (younger, more month-to-month, heavier
  data use, more support calls, more APAC and electronic checks) and leaves P(churn | features)
  alone; churn still rises to about 42% at 1, through the riskier mix.
- ``concept_drift`` leaves the customers alone and changes why they leave: a competitor pays
  exit fees, so contracts and tenure stop protecting; price sensitivity more than quadruples;
  support calls matter less; heavy data users in APAC start leaving. A model trained before it
  ranks customers markedly worse after it.

``make_drifting_stream`` yields windows of such traffic whose drift ramps up from a known
window, for monitoring demos.
"""

from loopml.datasets.churn import (
    CHURN_CATEGORICAL,
    CHURN_FEATURES,
    CHURN_NUMERIC,
    CHURN_TARGET,
    make_churn,
)
from loopml.datasets.stream import make_drifting_stream

__all__ = [
    "CHURN_CATEGORICAL",
    "CHURN_FEATURES",
    "CHURN_NUMERIC",
    "CHURN_TARGET",
    "make_churn",
    "make_drifting_stream",
]
