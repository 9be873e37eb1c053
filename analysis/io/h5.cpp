#include "analysis/io/h5_detail.hpp"

namespace kktflow::h5 {

using namespace detail;

// ---- Handle ---------------------------------------------------------------------------------

Handle::Handle(Handle&& other) noexcept : m_id(std::exchange(other.m_id, H5I_INVALID_HID)), m_close(other.m_close) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    m_id = std::exchange(other.m_id, H5I_INVALID_HID);
    m_close = other.m_close;
  }
  return *this;
}

void Handle::reset() noexcept {
  if (m_id >= 0 && m_close != nullptr && m_close(m_id) < 0 && m_close == H5Fclose) {
    note_failed_file_close();
  }
  m_id = H5I_INVALID_HID;
}

// ---- Object: attributes ---------------------------------------------------------------------

hid_t Object::check(hid_t status, const std::string& action) const { return where_of(*this).check(status, action); }

void Object::fail(const std::string& what) const { where_of(*this).fail(what); }

bool Object::has_attr(const std::string& name) const {
  return check(H5Aexists(id(), name.c_str()), attr_action("look up", name)) > 0;
}

std::vector<std::string> Object::attr_names() const {
  std::vector<std::string> names;
  check(H5Aiterate2(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attr_name, &names), "list attributes");
  return names;
}

void Object::write_attr(const std::string& name, const std::string& value, StringStorage storage) {
  const bool fixed = storage == StringStorage::fixed;
  // A fixed-length string keeps its terminating NUL so that C readers can print it directly.
  const Handle type = string_type(where_of(*this), fixed ? value.size() + 1 : 0);
  const char* text = value.c_str();
  const void* data = fixed ? static_cast<const void*>(text) : static_cast<const void*>(&text);
  put_attr(*this, name, type.id(), type.id(), std::nullopt, data);
}

void Object::write_attr(const std::string& name, double value) {
  put_attr(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, std::nullopt, &value);
}

void Object::write_attr(const std::string& name, std::int64_t value) {
  put_attr(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, std::nullopt, &value);
}

void Object::write_attr(const std::string& name, std::uint64_t value) {
  put_attr(*this, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, std::nullopt, &value);
}

void Object::write_attr(const std::string& name, const std::vector<std::string>& value) {
  const Handle type = string_type(where_of(*this), 0);
  std::vector<const char*> texts;
  texts.reserve(value.size());
  for (const std::string& text : value) {
    texts.push_back(text.c_str());
  }
  put_attr(*this, name, type.id(), type.id(), value.size(), texts.data());
}

void Object::write_attr(const std::string& name, const std::vector<double>& value) {
  put_attr(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, value.size(), value.data());
}

void Object::write_attr(const std::string& name, const std::vector<std::int64_t>& value) {
  put_attr(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, value.size(), value.data());
}

void Object::write_attr(const std::string& name, const std::vector<std::int64_t>& value, hsize_t columns) {
  if (columns == 0 || value.size() % columns != 0)
    fail(fmt::format("attribute '{}': {} values do not fill rows of {}", name, value.size(), columns));
  put_attr(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, value.size(), value.data(), columns);
}

template <class T>
T Object::read_attr(const std::string& name) const {
  if constexpr (IsVector<T>::value) {
    return read_values<typename T::value_type>(*this, name);
  } else {
    std::vector<T> values = read_values<T>(*this, name);
    if (values.size() != 1) {
      fail(fmt::format("attribute '{}' holds {} values, expected one", name, values.size()));
    }
    return std::move(values.front());
  }
}

template std::string Object::read_attr<std::string>(const std::string&) const;
template double Object::read_attr<double>(const std::string&) const;
template std::int64_t Object::read_attr<std::int64_t>(const std::string&) const;
template std::uint64_t Object::read_attr<std::uint64_t>(const std::string&) const;
template std::vector<std::string> Object::read_attr<std::vector<std::string>>(const std::string&) const;
template std::vector<double> Object::read_attr<std::vector<double>>(const std::string&) const;
template std::vector<std::int64_t> Object::read_attr<std::vector<std::int64_t>>(const std::string&) const;

std::string Object::read_attr_text(const std::string& name) const {
  const OpenAttr a = open_attr(*this, name);
  const Where at = where_of(*this);
  const std::string action = attr_action("read", name);
  std::vector<std::string> parts;
  if (a.type_class == H5T_STRING) {
    parts = read_strings(at, a, action);
  } else if (a.type_class == H5T_FLOAT) {
    parts = format_all(read_numbers<double>(at, a, action));
  } else if (a.type_class == H5T_INTEGER && H5Tget_sign(a.type.id()) == H5T_SGN_NONE) {
    parts = format_all(read_numbers<std::uint64_t>(at, a, action));
  } else if (a.type_class == H5T_INTEGER) {
    parts = format_all(read_numbers<std::int64_t>(at, a, action));
  } else {
    at.fail(action + ": it is neither a string nor a number");
  }
  return parts.size() == 1 ? parts.front() : fmt::format("[{}]", fmt::join(parts, ", "));
}

}  // namespace kktflow::h5
