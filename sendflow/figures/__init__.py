"""Report figures drawn from cached pipeline outputs, one module per figure.

The Agg backend is chosen here, before any submodule imports pyplot, so figures render on
machines without a display (cluster nodes, CI).
"""

import matplotlib

matplotlib.use("Agg")
