"""InterPodAffinity: required (anti-)affinity filters, preferred terms score."""
