"""The bundled timelines: acts of the record and of the seed document, in the formats read_timeline reads; installed as ``escalation_sim.bundled.timelines``."""
