#pragma once
// A tiny document model (headings, paragraphs, lists, tables, figures, code) rendered to Markdown and
// to HTML, so that report.md and report.html are built once and carry exactly the same numbers.
// Inline text may use **bold** and `code`; everything else is literal (escaped for each format).
#include <string>
#include <vector>

namespace fewshot::report {

struct Block {
  enum class Kind { heading, paragraph, bullets, table, figure, code };
  Kind kind = Kind::paragraph;
  int level = 2;                                  // heading level
  std::string text;                               // heading, paragraph, code, figure caption
  std::vector<std::string> items;                 // bullets
  std::vector<std::vector<std::string>> rows;     // table; rows[0] is the header
  std::string image;                              // figure: PNG path on disk
};

class Document {
 public:
  void heading(int level, std::string text) { add({Block::Kind::heading, level, std::move(text), {}, {}, {}}); }
  void paragraph(std::string text) { add({Block::Kind::paragraph, 0, std::move(text), {}, {}, {}}); }
  void bullets(std::vector<std::string> items) { add({Block::Kind::bullets, 0, {}, std::move(items), {}, {}}); }
  void table(std::vector<std::vector<std::string>> rows) { add({Block::Kind::table, 0, {}, {}, std::move(rows), {}}); }
  void figure(std::string png_path, std::string caption) {
    add({Block::Kind::figure, 0, std::move(caption), {}, {}, std::move(png_path)});
  }
  void code(std::string text) { add({Block::Kind::code, 0, std::move(text), {}, {}, {}}); }

  std::string markdown() const;                         // figures link charts/<file name>
  std::string html(const std::string& title) const;     // self-contained: figures as data URIs

 private:
  void add(Block b) { blocks_.push_back(std::move(b)); }
  std::vector<Block> blocks_;
};

std::string base64(const std::string& bytes);
std::string html_escape(const std::string& s);

}  // namespace fewshot::report
