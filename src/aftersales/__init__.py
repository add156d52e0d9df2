"""aftersales: a self-hosted post-purchase support desk for small online stores."""

__version__ = "0.1.0"
