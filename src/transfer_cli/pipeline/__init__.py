"""The analysis: the artifacts each stage produces, the three stages, the engines that run
them, and the memo's own words in zh and en."""
