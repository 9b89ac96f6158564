"""The ops team's command line: `hotline tail | case | lag | dlq | topics`."""
