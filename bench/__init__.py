"""The portal benchmark: dataset, hand-written reference endpoint and load driver."""
