"""The one exception type for things a user did wrong or must fix."""


class MnistvizError(Exception):
    """A problem the user can act on; pages show it with st.error, the CLI exits 2."""
