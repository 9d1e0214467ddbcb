// vkdream_media: base64, data URIs, sniffing, decoding limits, PNG text chunks, JPEG/WebP encoding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "media/base64.h"
#include "media/data_uri.h"
#include "media/image_decode.h"
#include "media/image_encode.h"
#include "media/image_input.h"
#include "media/image_type.h"
#include "media/png_text.h"
#include "media/png_writer.h"

using namespace vkdream::media;
using vkdream::graph::JsonValue;
using vkdream::graph::parse_json;

namespace {

std::vector<uint8_t> gradient(int w, int h, int channels) {
  std::vector<uint8_t> px(size_t(w) * h * channels);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        px[(size_t(y) * w + x) * channels + c] =
            uint8_t(x * 180 / std::max(1, w - 1) + y * 60 / std::max(1, h - 1) + c * 5);  // smooth, 0..255
  return px;
}

std::string as_string(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
         uint8_t(s[at + 3]);
}

// The chunk types of a PNG in order.
std::vector<std::string> chunk_types(const std::string& png) {
  std::vector<std::string> out;
  size_t at = 8;
  while (at + 12 <= png.size()) {
    out.push_back(png.substr(at + 4, 4));
    at += 12 + be32(png, at);
  }
  return out;
}

// A PNG that is only signature + IHDR claiming w x h (enough for the header checks).
std::string png_header_only(uint32_t w, uint32_t h) {
  std::vector<uint8_t> ihdr = {'I', 'H', 'D', 'R', uint8_t(w >> 24), uint8_t(w >> 16), uint8_t(w >> 8), uint8_t(w),
                               uint8_t(h >> 24), uint8_t(h >> 16), uint8_t(h >> 8), uint8_t(h), 8, 2, 0, 0, 0};
  std::string s = "\x89PNG\r\n\x1a\n";
  s += std::string("\0\0\0\x0d", 4);
  s.append(ihdr.begin(), ihdr.end());
  const uint32_t crc = png_crc32(ihdr.data(), ihdr.size());
  s += char(crc >> 24);
  s += char(crc >> 16);
  s += char(crc >> 8);
  s += char(crc);
  return s;
}

}  // namespace

// ---- base64 -------------------------------------------------------------------------------------------
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> v[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                   {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : v) {
    EXPECT_EQ(base64_encode(std::string(plain)), enc);
    if (*plain) {
      EXPECT_EQ(base64_decode(enc, 100).value(), plain) << enc;
    }
  }
}

TEST(Base64, RoundTripsRandomBytes) {
  std::mt19937 rng(7);
  for (size_t n = 1; n < 300; n += 7) {
    std::string bytes(n, '\0');
    for (char& c : bytes) c = char(rng());
    const std::string enc = base64_encode(bytes);
    EXPECT_EQ(enc.size(), (n + 2) / 3 * 4);
    EXPECT_EQ(base64_decode(enc, n).value(), bytes);
  }
}

TEST(Base64, AcceptsMissingPaddingAndLineBreaks) {
  EXPECT_EQ(base64_decode("Zg", 10).value(), "f");
  EXPECT_EQ(base64_decode("Zm8", 10).value(), "fo");
  EXPECT_EQ(base64_decode("Zm9v\nYmFy\r\n", 10).value(), "foobar");
}

TEST(Base64, RejectsMalformed) {
  std::string err;
  EXPECT_FALSE(base64_decode("Zm9v!", 10, &err));
  EXPECT_NE(err.find("unexpected character"), std::string::npos);
  EXPECT_FALSE(base64_decode("Zm9vY", 10, &err));    // 5 digits: not whole bytes
  EXPECT_FALSE(base64_decode("Zg=", 10, &err));      // padding to 3
  EXPECT_FALSE(base64_decode("Zg===", 10, &err));    // too much padding
  EXPECT_FALSE(base64_decode("Zg==Zg==", 10, &err));  // data after padding
  EXPECT_FALSE(base64_decode("Zh==", 10, &err));     // non-zero leftover bits
  EXPECT_NE(err.find("non-zero bits"), std::string::npos);
  EXPECT_FALSE(base64_decode("", 10, &err));
  EXPECT_FALSE(base64_decode("Zm9v-_", 10, &err));   // URL-safe alphabet is not base64
}

TEST(Base64, SizeCapCheckedBeforeDecoding) {
  std::string err;
  EXPECT_TRUE(base64_decode("Zm9vYmFy", 6, &err));
  EXPECT_FALSE(base64_decode("Zm9vYmFy", 5, &err));
  EXPECT_NE(err.find("more than the limit of 5"), std::string::npos);
}

// ---- data URIs and sniffing ---------------------------------------------------------------------------
TEST(DataUri, ParsesAndBuilds) {
  auto u = parse_data_uri("DATA:Image/PNG;base64,iVBORw0KGgo=");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->mime_type, "image/png");
  EXPECT_TRUE(u->is_base64);
  EXPECT_EQ(u->payload, "iVBORw0KGgo=");
  auto plain = parse_data_uri("data:,hello");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->is_base64);
  EXPECT_EQ(plain->mime_type, "");
  EXPECT_FALSE(parse_data_uri("data:image/png;base64"));  // no comma
  EXPECT_FALSE(parse_data_uri("http://x/data:,"));
  EXPECT_EQ(make_data_uri("image/png", "foo"), "data:image/png;base64,Zm9v");
}

TEST(ImageType, SniffsMagicBytes) {
  EXPECT_EQ(sniff_image_type(std::string("\x89PNG\r\n\x1a\n....")), ImageType::PNG);
  EXPECT_EQ(sniff_image_type(std::string("\xff\xd8\xff\xe0")), ImageType::JPEG);
  EXPECT_EQ(sniff_image_type(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)), ImageType::WebP);
  EXPECT_EQ(sniff_image_type(std::string("RIFF\x10\0\0\0WAVEfmt ", 16)), ImageType::Unknown);
  EXPECT_EQ(sniff_image_type(std::string("GIF89a......")), ImageType::GIF);
  EXPECT_EQ(sniff_image_type(std::string("BM") + std::string(30, '\0')), ImageType::BMP);
  EXPECT_EQ(sniff_image_type(std::string("BM")), ImageType::Unknown);
  EXPECT_EQ(sniff_image_type(std::string("<html>")), ImageType::Unknown);
  EXPECT_STREQ(image_mime_type(ImageType::WebP), "image/webp");
  EXPECT_STREQ(image_file_extension(ImageType::JPEG), "jpg");
}

// ---- PNG writer ---------------------------------------------------------------------------------------
TEST(PngWriter, Crc32KnownAnswer) {
  EXPECT_EQ(png_crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(png_crc32("IEND", 4), 0xAE426082u);  // the CRC every PNG ends with
}

TEST(PngWriter, RoundTripsPixelsAndTextChunks) {
  const int w = 7, h = 5;
  for (int channels = 1; channels <= 4; ++channels) {
    const auto px = gradient(w, h, channels);
    const std::string prompt = R"({"3": {"inputs": {"seed": 81, "cfg": 8.0}, "class_type": "KSampler"}})";
    const std::string png = as_string(encode_png(px.data(), w, h, channels,
                                                 {{"prompt", prompt}, {"workflow", R"({"nodes": []})"}}));
    // ComfyUI's SaveImage layout (PIL): IHDR, the tEXt chunks, then the image data.
    const auto types = chunk_types(png);
    ASSERT_GE(types.size(), 5u);
    EXPECT_EQ(types[0], "IHDR");
    EXPECT_EQ(types[1], "tEXt");
    EXPECT_EQ(types[2], "tEXt");
    EXPECT_EQ(types[3], "IDAT");
    EXPECT_EQ(types.back(), "IEND");
    const auto texts = read_png_text_chunks(png);
    ASSERT_EQ(texts.size(), 2u);
    EXPECT_EQ(texts[0].first, "prompt");
    EXPECT_EQ(texts[0].second, prompt);
    EXPECT_EQ(texts[1].first, "workflow");
    const DecodedImage img = decode_image(png);
    EXPECT_EQ(img.width, w);
    EXPECT_EQ(img.height, h);
    EXPECT_EQ(img.channels, channels);
    EXPECT_EQ(img.pixels, px) << channels << " channels";
  }
}

// Against a real ComfyUI SaveImage output (shared test data, when present): the text chunk we write for the
// same keyword and text is byte-identical to PIL's, CRC included, and sits in the same place.
TEST(PngWriter, MatchesComfyUISaveImageChunks) {
  const std::string path = VKDREAM_FIXTURES_DIR "/graphs/img2img_template_imageresize/output/ComfyUI_00001_.png";
  FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr) << "no " << path;
  std::string comfy(1 << 20, '\0');
  comfy.resize(std::fread(comfy.data(), 1, comfy.size(), f));
  std::fclose(f);
  const auto texts = read_png_text_chunks(comfy);
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_EQ(texts[0].first, "prompt");
  const DecodedImage img = decode_image(comfy);
  ASSERT_EQ(img.width, 64);
  ASSERT_EQ(img.height, 48);
  const std::string ours = as_string(encode_png(img.pixels.data(), img.width, img.height, img.channels,
                                                {{texts[0].first, texts[0].second}}));
  EXPECT_EQ(chunk_types(ours), chunk_types(comfy));
  // IHDR and the tEXt chunk are byte-identical (the deflate stream differs: zlib vs stb).
  const size_t text_end = 8 + 25 + 12 + be32(comfy, 33);
  EXPECT_EQ(ours.substr(0, text_end), comfy.substr(0, text_end));
  EXPECT_EQ(decode_image(ours).pixels, img.pixels);
}

TEST(PngWriter, NonAsciiTextBecomesITXt) {
  const auto px = gradient(2, 2, 3);
  const std::string text = "caf\xc3\xa9 \xf0\x9f\x94\xa7";
  const std::string png = as_string(encode_png(px.data(), 2, 2, 3, {{"prompt", text}}));
  EXPECT_EQ(chunk_types(png)[1], "iTXt");
  const auto texts = read_png_text_chunks(png);
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_EQ(texts[0].second, text);
}

TEST(PngWriter, RejectsBadKeywordsAndSizes) {
  const auto px = gradient(2, 2, 3);
  EXPECT_THROW(encode_png(px.data(), 2, 2, 3, {{"", "x"}}), std::invalid_argument);
  EXPECT_THROW(encode_png(px.data(), 2, 2, 3, {{std::string(80, 'k'), "x"}}), std::invalid_argument);
  EXPECT_THROW(encode_png(px.data(), 2, 2, 3, {{"a\nb", "x"}}), std::invalid_argument);
  EXPECT_THROW(encode_png(px.data(), 0, 2, 3), std::invalid_argument);
  EXPECT_THROW(encode_png(px.data(), 2, 2, 5), std::invalid_argument);
}

TEST(PngWriter, CorruptedChunkStopsTextReading) {
  const auto px = gradient(2, 2, 3);
  std::string png = as_string(encode_png(px.data(), 2, 2, 3, {{"a", "1"}, {"b", "2"}}));
  // Flip a byte inside the second tEXt chunk's data: its CRC no longer matches.
  const size_t second = 8 + 25 + 12 + 3;
  png[second + 8] ^= 1;
  const auto texts = read_png_text_chunks(png);
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_EQ(texts[0].first, "a");
}

TEST(PngWriter, WritesFiles) {
  const auto px = gradient(3, 3, 3);
  const std::string path = ::testing::TempDir() + "vkdream_png_writer_test.png";
  write_png_file(path, px.data(), 3, 3, 3, {{"prompt", "{}"}});
  FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_TRUE(f);
  std::string data(4096, '\0');
  data.resize(std::fread(data.data(), 1, data.size(), f));
  std::fclose(f);
  std::remove(path.c_str());
  EXPECT_EQ(decode_image(data).pixels, px);
  EXPECT_EQ(read_png_text_chunks(data).at(0).second, "{}");
}

// ---- decoding limits ----------------------------------------------------------------------------------
TEST(ImageDecode, ChecksDimensionsFromTheHeaderFirst) {
  EXPECT_EQ(probe_image(png_header_only(8192, 2048)).width, 8192);
  try {
    probe_image(png_header_only(9000, 10));
    FAIL();
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("9000x10, more than 8192 pixels a side"), std::string::npos) << e.what();
  }
  try {
    probe_image(png_header_only(5000, 5000));  // 25 MP > 16.8 MP
    FAIL();
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("25000000 pixels"), std::string::npos) << e.what();
  }
  // decode_image refuses the same header without allocating 100 MB.
  EXPECT_THROW(decode_image(png_header_only(5000, 5000)), ImageError);
  ImageLimits small;
  small.max_side = 4;
  const auto px = gradient(5, 2, 3);
  EXPECT_THROW(decode_image(as_string(encode_png(px.data(), 5, 2, 3)), 0, small), ImageError);
  small.max_encoded_bytes = 10;
  EXPECT_THROW(probe_image(as_string(encode_png(px.data(), 5, 2, 3)), small), ImageError);
}

TEST(ImageDecode, JpegAndGifHeadersAreChecked) {
  // A real JPEG whose SOF0 frame size is patched to 10000x10000.
  const auto px = gradient(16, 8, 3);
  ConvertOptions o;
  o.format = OutputFormat::JPEG;
  std::string jpg = as_string(encode_image(px.data(), 16, 8, 3, o));
  EXPECT_EQ(probe_image(jpg).width, 16);
  const size_t sof = jpg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  jpg[sof + 5] = char(10000 >> 8);  // height
  jpg[sof + 6] = char(10000 & 0xff);
  jpg[sof + 7] = char(10000 >> 8);  // width
  jpg[sof + 8] = char(10000 & 0xff);
  EXPECT_THROW(decode_image(jpg), ImageError);
  // GIF logical screen 60000x2.
  std::string gif = std::string("GIF89a") + char(0x60) + char(0xea) + char(2) + char(0) + std::string(20, '\0');
  EXPECT_THROW(probe_image(gif), ImageError);
}

TEST(ImageDecode, RejectsGarbageAndTruncation) {
  EXPECT_THROW(decode_image("not an image at all"), ImageError);
  EXPECT_THROW(decode_image(""), ImageError);
  const auto px = gradient(32, 32, 3);
  const std::string png = as_string(encode_png(px.data(), 32, 32, 3));
  for (size_t cut : {size_t(10), size_t(40), png.size() / 2, png.size() - 13})
    EXPECT_THROW(decode_image(png.substr(0, cut)), ImageError) << "cut at " << cut;
  EXPECT_THROW(decode_image(std::string("RIFF\x20\0\0\0WEBPVP8 garbage-garbage-garbage", 36)), ImageError);
  // From scripts/fuzz: a PNG whose only IDAT chunk is empty (stb_image copies it from a null buffer; the fuzz
  // build's UBSan flagged it) decodes to a clear error.
  std::string empty_idat = png_header_only(4, 4);
  empty_idat += std::string("\0\0\0\0IDAT\x35\xaf\x06\x1e", 12);  // length 0, CRC of "IDAT"
  empty_idat += std::string("\0\0\0\0IEND\xae\x42\x60\x82", 12);
  EXPECT_THROW(decode_image(empty_idat), ImageError);
}

TEST(ImageDecode, ConvertsChannels) {
  const auto px = gradient(4, 3, 4);
  const std::string png = as_string(encode_png(px.data(), 4, 3, 4));
  const DecodedImage rgb = decode_image(png, 3);
  ASSERT_EQ(rgb.channels, 3);
  for (size_t i = 0; i < 12; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(rgb.pixels[i * 3 + c], px[i * 4 + c]);
  EXPECT_EQ(probe_image(png).channels, 4);
}

// ---- JPEG / WebP encoding -----------------------------------------------------------------------------
double mean_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::abs(int(a[i]) - int(b[i]));
  return s / double(a.size());
}

TEST(ImageEncode, JpegQualityProgressiveAndSubsampling) {
  const int w = 64, h = 48;
  const auto px = gradient(w, h, 3);
  ConvertOptions o;
  o.format = OutputFormat::JPEG;
  o.quality = 95;
  const std::string hi = as_string(encode_image(px.data(), w, h, 3, o));
  EXPECT_EQ(sniff_image_type(hi), ImageType::JPEG);
  const DecodedImage back = decode_image(hi, 3);
  const double err_hi = mean_abs_diff(back.pixels, px);
  RecordProperty("jpeg_q95_mean_abs_err", std::to_string(err_hi));
  EXPECT_LT(err_hi, 1.5);  // measured 0.42
  o.quality = 10;
  const std::string lo = as_string(encode_image(px.data(), w, h, 3, o));
  EXPECT_LT(lo.size(), hi.size());
  EXPECT_GT(mean_abs_diff(decode_image(lo, 3).pixels, px), err_hi);
  // Progressive: an SOF2 frame; baseline: SOF0.
  EXPECT_NE(hi.find("\xff\xc0"), std::string::npos);
  o.progressive = true;
  EXPECT_NE(as_string(encode_image(px.data(), w, h, 3, o)).find("\xff\xc2"), std::string::npos);
  // 4:4:4: the luma sampling factor byte in SOF0 is 0x11 (4:2:0 is 0x22).
  o.progressive = false;
  o.chroma_444 = true;
  const std::string full = as_string(encode_image(px.data(), w, h, 3, o));
  const size_t sof = full.find("\xff\xc0");
  EXPECT_EQ(uint8_t(full[sof + 11]), 0x11);
  EXPECT_EQ(uint8_t(hi[hi.find("\xff\xc0") + 11]), 0x22);
  // RGBA input: alpha dropped, still a 3-channel JPEG.
  const auto rgba = gradient(w, h, 4);
  EXPECT_EQ(probe_image(as_string(encode_image(rgba.data(), w, h, 4, o))).channels, 3);
}

TEST(ImageEncode, WebpLossyAndLossless) {
  const int w = 40, h = 30;
  const auto px = gradient(w, h, 3);
  ConvertOptions o;
  o.format = OutputFormat::WebP;
  o.lossless = true;
  const std::string ll = as_string(encode_image(px.data(), w, h, 3, o));
  EXPECT_EQ(sniff_image_type(ll), ImageType::WebP);
  const DecodedImage back = decode_image(ll, 3);
  EXPECT_EQ(back.width, w);
  EXPECT_EQ(back.pixels, px);
  o.lossless = false;
  o.quality = 90;
  const DecodedImage lossy = decode_image(as_string(encode_image(px.data(), w, h, 3, o)), 3);
  RecordProperty("webp_q90_mean_abs_err", std::to_string(mean_abs_diff(lossy.pixels, px)));
  EXPECT_LT(mean_abs_diff(lossy.pixels, px), 3.0);  // measured 0.98
  // RGBA keeps alpha.
  const auto rgba = gradient(w, h, 4);
  o.lossless = true;
  const DecodedImage back4 = decode_image(as_string(encode_image(rgba.data(), w, h, 4, o)));
  EXPECT_EQ(back4.channels, 4);
  EXPECT_EQ(back4.pixels, rgba);
}

TEST(ImageEncode, ConvertImageFromPng) {
  const auto px = gradient(16, 16, 3);
  const std::string png = as_string(encode_png(px.data(), 16, 16, 3, {{"prompt", "{}"}}));
  ConvertOptions o;
  EXPECT_EQ(as_string(convert_image(png, o)), png);  // PNG stays as it is, text chunks included
  o.format = OutputFormat::WebP;
  o.lossless = true;
  EXPECT_EQ(decode_image(as_string(convert_image(png, o))).pixels, px);
  EXPECT_STREQ(output_file_extension(OutputFormat::JPEG), "jpeg");
  EXPECT_STREQ(output_mime_type(OutputFormat::WebP), "image/webp");
}

TEST(ConvertOutput, ParsesOptions) {
  ConvertOptions o = parse_convert_output(parse_json(R"({"format": "jpg", "options": {"quality": 55,
      "progressive": true, "chromaSubsampling": "4:4:4", "mozjpeg": true}})"));
  EXPECT_EQ(o.format, OutputFormat::JPEG);
  EXPECT_EQ(o.quality, 55);
  EXPECT_TRUE(o.progressive);
  EXPECT_TRUE(o.chroma_444);
  o = parse_convert_output(parse_json(R"({"format": "webp", "options": {"lossless": true, "effort": 6, "quality": 70.0}})"));
  EXPECT_EQ(o.format, OutputFormat::WebP);
  EXPECT_TRUE(o.lossless);
  EXPECT_EQ(o.effort, 6);
  EXPECT_EQ(o.quality, 70);
  EXPECT_EQ(parse_convert_output(parse_json(R"({"format": "png"})")).format, OutputFormat::PNG);
}

TEST(ConvertOutput, RejectsBadOptionsWithLocation) {
  auto loc = [](const char* json) {
    try {
      parse_convert_output(parse_json(json));
    } catch (const ConvertOptionsError& e) {
      return e.location();
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(loc(R"({"format": "tiff"})"), "convert_output.format");
  EXPECT_EQ(loc(R"({})"), "convert_output.format");
  EXPECT_EQ(loc(R"([])"), "convert_output");
  EXPECT_EQ(loc(R"({"format": "jpeg", "options": {"quality": 0}})"), "convert_output.options.quality");
  EXPECT_EQ(loc(R"({"format": "jpeg", "options": {"quality": 101}})"), "convert_output.options.quality");
  EXPECT_EQ(loc(R"({"format": "jpeg", "options": {"quality": 50.5}})"), "convert_output.options.quality");
  EXPECT_EQ(loc(R"({"format": "jpeg", "options": {"progressive": "yes"}})"), "convert_output.options.progressive");
  EXPECT_EQ(loc(R"({"format": "webp", "options": {"effort": 7}})"), "convert_output.options.effort");
  EXPECT_EQ(loc(R"({"format": "webp", "options": {"preset": "cartoon"}})"), "convert_output.options.preset");
  EXPECT_EQ(loc(R"({"format": "webp", "options": 3})"), "convert_output.options");
}

// ---- image references ---------------------------------------------------------------------------------
TEST(ImageInput, ClassifiesReferences) {
  const auto px = gradient(4, 4, 3);
  const std::string png = as_string(encode_png(px.data(), 4, 4, 3));
  EXPECT_EQ(classify_image_ref("https://example.com/a.png").kind, ImageRefKind::Url);
  EXPECT_EQ(classify_image_ref("HTTP://example.com/a.png").kind, ImageRefKind::Url);
  const ImageRef uri = classify_image_ref(make_data_uri("image/png", png));
  EXPECT_EQ(uri.kind, ImageRefKind::DataUri);
  EXPECT_EQ(uri.type, ImageType::PNG);
  EXPECT_EQ(uri.bytes, png);
  const ImageRef bare = classify_image_ref(base64_encode(png));
  EXPECT_EQ(bare.kind, ImageRefKind::Base64);
  EXPECT_EQ(bare.bytes, png);
  // Type from the bytes, never from the declared MIME type.
  EXPECT_EQ(classify_image_ref(make_data_uri("image/jpeg", png)).type, ImageType::PNG);
  EXPECT_EQ(classify_image_ref("photo.png").kind, ImageRefKind::FileName);
  EXPECT_EQ(classify_image_ref("abcd").kind, ImageRefKind::FileName);  // decodes, but is no image
  EXPECT_EQ(classify_image_ref("subdir/example_image_0001").kind, ImageRefKind::FileName);
  EXPECT_THROW(classify_image_ref("data:image/png;base64,Zm9vYmFy"), ImageError);  // not an image
  EXPECT_THROW(classify_image_ref("data:image/png;base64,@@@"), ImageError);
  EXPECT_THROW(classify_image_ref("data:image/png,raw"), ImageError);
  // Too long for a file name: a clear error instead of a file lookup.
  const std::string tiff = base64_encode(std::string("II*\0", 4) + std::string(300, 'x'));
  EXPECT_THROW(classify_image_ref(tiff), ImageError);
  EXPECT_THROW(classify_image_ref(std::string(300, '.')), ImageError);
  EXPECT_EQ(classify_image_ref(std::string(255, 'a') ).kind, ImageRefKind::FileName);
  ImageLimits tiny;
  tiny.max_encoded_bytes = 16;
  EXPECT_THROW(classify_image_ref(base64_encode(png), tiny), ImageError);
}

// ---- hostile bytes ------------------------------------------------------------------------------------
// Mutated and truncated images of every decodable type: decoding either succeeds within the limits or
// throws ImageError; never a crash or another exception (run under ASan to catch reads out of bounds).
TEST(ImageDecode, SurvivesMutatedInputs) {
  const auto px = gradient(24, 16, 4);
  std::vector<std::string> seeds;
  seeds.push_back(as_string(encode_png(px.data(), 24, 16, 4, {{"prompt", "{}"}})));
  ConvertOptions o;
  o.format = OutputFormat::JPEG;
  seeds.push_back(as_string(encode_image(px.data(), 24, 16, 4, o)));
  o.progressive = true;
  seeds.push_back(as_string(encode_image(px.data(), 24, 16, 4, o)));
  o.format = OutputFormat::WebP;
  seeds.push_back(as_string(encode_image(px.data(), 24, 16, 4, o)));
  o.lossless = true;
  seeds.push_back(as_string(encode_image(px.data(), 24, 16, 4, o)));
  // A 2x2 24-bit BMP: 14-byte file header, 40-byte BITMAPINFOHEADER, two rows of 6 bytes padded to 8.
  const uint8_t bmp_header[54] = {'B', 'M', 70, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0,  // file header
                                  40, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 24, 0, 0, 0, 0, 0, 16, 0, 0, 0};
  std::string bmp(reinterpret_cast<const char*>(bmp_header), sizeof bmp_header);
  bmp += std::string("\x10\x20\x30\x40\x50\x60\0\0\x70\x80\x90\xa0\xb0\xc0\0\0", 16);
  seeds.push_back(bmp);
  // The classic 1x1 GIF.
  seeds.push_back(base64_decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", 100).value());
  ImageLimits limits;
  limits.max_pixels = 1 << 20;
  limits.max_side = 2048;
  std::mt19937 rng(1234);
  // VKDREAM_FUZZ_ITERATIONS raises the count for a longer run under ASan.
  const char* iterations_env = std::getenv("VKDREAM_FUZZ_ITERATIONS");
  const int iterations = iterations_env ? std::atoi(iterations_env) : 150;
  int decoded = 0, rejected = 0;
  for (const std::string& seed : seeds) {
    ASSERT_NO_THROW(decode_image(seed, 0, limits)) << image_type_name(sniff_image_type(seed));
    for (int i = 0; i < iterations; ++i) {
      std::string m = seed;
      const int edits = 1 + int(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const size_t at = rng() % m.size();
        switch (rng() % 3) {
          case 0: m[at] = char(rng()); break;
          case 1: m[at] = char(0xff); break;
          default: m.resize(std::max<size_t>(at, 8)); break;
        }
      }
      try {
        const DecodedImage img = decode_image(m, 0, limits);
        EXPECT_EQ(img.pixels.size(), size_t(img.width) * img.height * img.channels);
        ++decoded;
      } catch (const ImageError&) {
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(decoded, 0);
}

TEST(Base64, SurvivesRandomInput) {
  std::mt19937 rng(5);
  static const char kChars[] = "ABCxyz019+/= \n-_!\0\xff";
  const std::string alphabet(kChars, sizeof kChars - 1);  // NUL included
  for (int i = 0; i < 5000; ++i) {
    std::string s(rng() % 40, 'A');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    std::string err;
    if (auto d = base64_decode(s, 1000, &err)) {
      EXPECT_EQ(base64_decode(base64_encode(*d), 1000).value(), *d);
    } else {
      EXPECT_FALSE(err.empty());
    }
    (void)parse_data_uri(s);
    (void)read_png_text_chunks("\x89PNG\r\n\x1a\n" + s);
  }
}
