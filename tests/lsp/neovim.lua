-- Neovim's own LSP client against `heraspec lsp`, started by the settings `heraspec init` wrote
-- (.nvim.lua, sourced before this script): open a spec, wait for its diagnostics, ask for a
-- completion, fix the error in the buffer and wait for its diagnostic to go, write what the editor
-- got as JSON, quit. Run by tests/test_lsp_neovim.py:
--   nvim --headless --clean -u NONE -c "filetype on" -c "luafile .nvim.lua" -c "luafile neovim.lua"
-- with HERASPEC_SPEC, HERASPEC_LINE / HERASPEC_COL (0-based) and HERASPEC_OUT in the environment.
-- Works with Neovim 0.7 (Debian bookworm) and later.
local spec = os.getenv("HERASPEC_SPEC")
local out_path = os.getenv("HERASPEC_OUT")
local result = { diagnostics = {}, completion = {}, errors = {} }

local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(spec))
  local bufnr = vim.api.nvim_get_current_buf()
  local seen = vim.wait(20000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
  if not seen then
    table.insert(result.errors, "no diagnostics within 20 s")
  end
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(result.diagnostics, { lnum = d.lnum, col = d.col, message = d.message, source = d.source })
  end
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = tonumber(os.getenv("HERASPEC_LINE")), character = tonumber(os.getenv("HERASPEC_COL")) },
  }
  local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/completion", params, 20000)
  for _, response in pairs(responses or {}) do
    if response.err then
      table.insert(result.errors, vim.inspect(response.err))
    end
    local items = response.result and (response.result.items or response.result) or {}
    for _, item in ipairs(items) do
      table.insert(result.completion, { label = item.label, detail = item.detail })
    end
  end
  -- fix the misspelt function in the buffer (an incremental change, as typing sends): cleared
  local fixed_line = vim.api.nvim_buf_get_lines(bufnr, 2, 3, false)[1]:gsub("sqaure", "square")
  vim.api.nvim_buf_set_lines(bufnr, 2, 3, false, { fixed_line })
  result.cleared = vim.wait(20000, function()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if d.lnum == 2 then return false end
    end
    return true
  end, 50)
  vim.lsp.stop_client(vim.lsp.get_active_clients())
end)
if not ok then
  table.insert(result.errors, tostring(err))
end
local f = io.open(out_path, "w")
f:write(vim.fn.json_encode(result))
f:close()
vim.cmd("qall!")
