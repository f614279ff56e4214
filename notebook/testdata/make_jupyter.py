"""Writes jupyter.ipynb with Python's nbformat, the reference for how Jupyter
stores a notebook: run with Debian's /usr/bin/python3 (python3-nbformat).
notebook's tests read it and must write it back byte for byte."""
import nbformat
from nbformat.v4 import (new_notebook, new_code_cell, new_markdown_cell,
                         new_raw_cell, new_output)

nb = new_notebook()
nb.metadata = {
    "kernelspec": {"display_name": "Go (graft)", "language": "go", "name": "graft"},
    "language_info": {"file_extension": ".go", "mimetype": "text/x-go", "name": "go", "version": "1.26.8"},
    "custom": {"ratio": 0.1, "big": 1e300, "small": 1.5e-07, "whole": 3.0, "count": 12345678901234567890,
               "flags": [True, False, None], "empty": {}, "none": [], "text": "naïve ✓ \u2028 <b>&</b>"},
}
png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1Pe"
nb.cells = [
    new_markdown_cell("# Title\n\nSome *text* with `code`.\n![pic](attachment:pic.png)",
                      id="md-1", attachments={"pic.png": {"image/png": png}}),
    new_code_cell("x := 1\nfmt.Println(\"héllo\\t<&>\")\nx", id="code-1", execution_count=1,
                  metadata={"tags": ["a", "b"], "collapsed": False},
                  outputs=[
                      new_output("stream", name="stdout", text="héllo\t<&>\nline2\r\nend"),
                      new_output("stream", name="stderr", text="warn\n"),
                      new_output("display_data", data={"text/plain": "<PNG>", "image/png": png,
                                                       "image/svg+xml": "<svg>\n<rect/>\n</svg>\n"},
                                 metadata={"image/png": {"width": 10, "height": 5}}),
                      new_output("display_data", data={"application/json": {"a": [1, 2.5, "x\ny"], "b": None},
                                                       "application/vnd.custom+json": {"k": "v"},
                                                       "text/html": "<b>\n  bold</b>", "text/plain": "obj"},
                                 metadata={}),
                      new_output("execute_result", execution_count=1,
                                 data={"text/plain": "1"}, metadata={}),
                  ]),
    new_code_cell("panic(\"boom\")", id="code-2", execution_count=2, outputs=[
        new_output("error", ename="panic", evalue="boom",
                   traceback=["\x1b[31mpanic\x1b[0m: boom", "goroutine 1:", "\tcell[2]:1"]),
    ]),
    new_code_cell("", id="code-3"),
    new_raw_cell("raw\ntext", id="raw-1", metadata={"format": "text/html"}),
]
nbformat.validate(nb)
nbformat.write(nb, "jupyter.ipynb")
