"""Sales funnels: pipelines with ordered stages, deals moving through them, the board and the forecast."""
