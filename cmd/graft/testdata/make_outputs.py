"""Writes outputs.ipynb, the notebook TestRunMatchesNBClient executes both
with `graft run` and with nbclient through the installed kernel. Run with
Debian's /usr/bin/python3 (python3-nbformat)."""
import nbformat
from nbformat.v4 import new_notebook, new_code_cell, new_markdown_cell

cells = [
    new_markdown_cell("# Outputs\nEvery kind of output a cell can make.", id="intro"),
    new_code_cell('fmt.Println("hello")\nfmt.Fprintln(os.Stderr, "careful")\nfmt.Print("no newline")\n6 * 7', id="streams"),
    new_code_cell('for i := 0; i < 3; i++ {\n\tfmt.Println("step", i)\n\ttime.Sleep(30 * time.Millisecond)\n}', id="slow-stream"),
    new_code_cell('h := display.Show(display.Text("first"))\n_ = display.Show(display.HTML("<b>bold</b>"))', id="display"),
    new_code_cell('h.Update(display.Text("second"))\nfmt.Println("updated")', id="update"),
    new_code_cell('fmt.Println("gone")\ndisplay.Clear(true)\nfmt.Println("kept")', id="clear"),
    new_code_cell('_ = display.Show(display.PNG([]byte("\\x89PNG\\r\\n\\x1a\\nnot really")))', id="png"),
    new_code_cell('var s []int\nfmt.Println("before")\n_ = s[3]', id="panic"),
    new_code_cell('undefinedName + 1', id="compile-error"),
    new_code_cell('', id="empty"),
    new_code_cell('x := "after errors"\nx', id="after"),
]
nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"display_name": "Go (graft)", "language": "go", "name": "graft"}})
nbformat.validate(nb)
nbformat.write(nb, "outputs.ipynb")
