"""Traffic: the workload's classes, their distributions and shared prefixes, resolved for the models
and sampled for the simulator and the trace generator."""
