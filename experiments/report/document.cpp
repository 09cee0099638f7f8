#include "experiments/report/document.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fewshot::report {

namespace {

// **bold** and `code` to HTML, escaping the rest.
std::string inline_html(const std::string& s) {
  std::string out;
  bool bold = false, code = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!code && s.compare(i, 2, "**") == 0) {
      out += bold ? "</strong>" : "<strong>";
      bold = !bold;
      ++i;
    } else if (s[i] == '`') {
      out += code ? "</code>" : "<code>";
      code = !code;
    } else {
      out += html_escape(std::string(1, s[i]));
    }
  }
  if (code) out += "</code>";
  if (bold) out += "</strong>";
  return out;
}

std::string md_cell(const std::string& s) {  // a pipe would end the cell
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string read_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("report: cannot read chart " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* kCss = R"(
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #1d1d1f; line-height: 1.5; }
h1 { border-bottom: 2px solid #0072B2; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f0f4f8; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { color: #555; font-size: .9em; }
pre { background: #f5f5f5; padding: .8em; overflow-x: auto; border-radius: 4px; }
code { background: #f5f5f5; padding: 0 .2em; border-radius: 3px; }
)";

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += table[(v >> 18) & 63], out += table[(v >> 12) & 63], out += table[(v >> 6) & 63], out += table[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += table[(v >> 18) & 63], out += table[(v >> 12) & 63], out += "==";
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += table[(v >> 18) & 63], out += table[(v >> 12) & 63], out += table[(v >> 6) & 63], out += '=';
  }
  return out;
}

std::string Document::markdown() const {
  std::string out;
  for (const Block& b : blocks_) {
    switch (b.kind) {
      case Block::Kind::heading:
        out.append(static_cast<std::size_t>(b.level), '#');
        out += ' ';
        out += b.text;
        out += "\n\n";
        break;
      case Block::Kind::paragraph: out += b.text + "\n\n"; break;
      case Block::Kind::bullets:
        for (const auto& item : b.items) out += "- " + item + "\n";
        out += "\n";
        break;
      case Block::Kind::table:
        for (std::size_t r = 0; r < b.rows.size(); ++r) {
          out += "|";
          for (const auto& cell : b.rows[r]) {
            out += ' ';
            out += md_cell(cell);
            out += " |";
          }
          out += "\n";
          if (r == 0) {
            out += "|";
            for (std::size_t k = 0; k < b.rows[0].size(); ++k) out += " --- |";
            out += "\n";
          }
        }
        out += "\n";
        break;
      case Block::Kind::figure:
        out += "![" + b.text + "](charts/" + std::filesystem::path(b.image).filename().string() + ")\n\n*" + b.text + "*\n\n";
        break;
      case Block::Kind::code: out += "```\n" + b.text + "\n```\n\n"; break;
    }
  }
  return out;
}

std::string Document::html(const std::string& title) const {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + html_escape(title) +
                    "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n";
  for (const Block& b : blocks_) {
    switch (b.kind) {
      case Block::Kind::heading: {
        const std::string h = std::to_string(b.level);
        out += "<h" + h + ">" + inline_html(b.text) + "</h" + h + ">\n";
        break;
      }
      case Block::Kind::paragraph: out += "<p>" + inline_html(b.text) + "</p>\n"; break;
      case Block::Kind::bullets:
        out += "<ul>\n";
        for (const auto& item : b.items) out += "<li>" + inline_html(item) + "</li>\n";
        out += "</ul>\n";
        break;
      case Block::Kind::table:
        out += "<table>\n";
        for (std::size_t r = 0; r < b.rows.size(); ++r) {
          out += "<tr>";
          for (const auto& cell : b.rows[r]) out += (r == 0 ? "<th>" : "<td>") + inline_html(cell) + (r == 0 ? "</th>" : "</td>");
          out += "</tr>\n";
        }
        out += "</table>\n";
        break;
      case Block::Kind::figure:
        out += "<figure><img alt=\"" + html_escape(b.text) + "\" src=\"data:image/png;base64," + base64(read_binary(b.image)) +
               "\"><figcaption>" + inline_html(b.text) + "</figcaption></figure>\n";
        break;
      case Block::Kind::code: out += "<pre><code>" + html_escape(b.text) + "</code></pre>\n"; break;
    }
  }
  return out + "</body>\n</html>\n";
}

}  // namespace fewshot::report
