"""Package data: the toy models, the example image and the toy-world renderer + fixtures.

Shipped inside the wheel so a new user can try every capability offline right after
`pip install cliplens` (about 46 MB, under 1% of a torch install). Read it only through
`cliplens.assets`; nothing here is imported as code.
"""
