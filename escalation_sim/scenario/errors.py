class ScenarioError(ValueError):
    """A scenario file or mapping is invalid.

    The message reads ``file: key.path: what was expected``; the parts are kept as ``file``,
    ``key`` and ``detail``.
    """

    def __init__(self, file: str, key: str, detail: str):
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(where + detail)
        self.file, self.key, self.detail = file, key, detail
