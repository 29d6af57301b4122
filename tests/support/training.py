"""One model family's training section as tests put it into a stack file (serving.endpoints[0].training)."""

from __future__ import annotations

CHURN_TRAINING = {
    "dataPrefix": "datasets/churn/",
    "image": {"repository": "train", "tag": "1.4.0"},
    "servingImage": {"repository": "serve", "tag": "1.4.0"},
    "instanceType": "ml.m5.xlarge",
    "maxRuntimeSeconds": 3600,
    "evaluation": {"metric": "binary_classification_metrics.auc.value", "threshold": 0.8},
    "schedule": {"expression": "cron(0 3 ? * MON *)"},
}
