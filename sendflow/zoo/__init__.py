"""Model zoo: self-describing bundles of a model's trained folds, and loading them to predict."""

from .bundle import BundleError, LoadedBundle, load_bundle, write_bundle

__all__ = ["BundleError", "LoadedBundle", "load_bundle", "write_bundle"]
