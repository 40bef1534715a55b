"""The lessons' plug-ins, one package each; :mod:`mpviz.registry` lists and loads them."""
