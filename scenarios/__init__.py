"""The bundled scenario files; installed as the package ``escalation_sim.bundled``."""
