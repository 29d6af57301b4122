"""Entry point for `pulumi up`: validate the stack config, build the platform, export outputs."""

from components.program import main

main()
