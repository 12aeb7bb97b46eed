-- One database per service (ARCHITECTURE rule 1), created on the first start of the volume.
CREATE DATABASE accounts;
CREATE DATABASE disputes;
CREATE DATABASE escalation;
