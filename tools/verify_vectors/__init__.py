"""Independent check of fieldcrypt's language-neutral vectors; see __main__.py.

Run with python3 tools/verify_vectors.py, or python3 -m verify_vectors from tools/.
"""
