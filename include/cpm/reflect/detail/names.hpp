// cpm: field and type names of an aggregate, at compile time.
//
// Boost 1.81 has no pfr::get_name, so the names come from the compiler itself: the address
// of the I-th member of a constant object is passed as a template argument, and the
// function's __PRETTY_FUNCTION__ then spells the member's name as its last identifier:
//   g++ 12:     ... [with auto Address = member_address<long int>{(& fake_object<user>.fake_storage<user>::value.user::id)}]
//   clang++ 14: ... [Address = {&fake_object.value.id}]
// The object is a union member that is never active, so any aggregate works (std::string
// fields included) and nothing is ever constructed. Local types, templates and non-ASCII
// identifiers work on both compilers. A canary at the end of this file fails loudly if a
// compiler ever spells signatures differently; cpm::model_traits<T>::columns overrides names.
#pragma once

#include <cpm/detail/fixed_string.hpp>

#include <boost/pfr/core.hpp>

#include <cstddef>
#include <string_view>
#include <type_traits>

namespace cpm::detail {

template <class T>
union fake_storage {
  char none;
  T value;
  constexpr fake_storage() : none{} {}
  constexpr ~fake_storage() {}
};

template <class T>
inline constexpr fake_storage<T> fake_object{};

// clang++ 14 takes a pointer to a subobject as a template argument only inside a class.
template <class Field>
struct member_address {
  const Field* pointer;
};

template <auto Address>
consteval auto signature_of() {
  return std::string_view(__PRETTY_FUNCTION__);
}

template <class T>
consteval auto type_signature() {
  return std::string_view(__PRETTY_FUNCTION__);
}

constexpr bool is_identifier_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// The last identifier in `text`, e.g. "id" in "...user::id)}]".
constexpr std::string_view last_identifier(std::string_view text) noexcept {
  std::size_t end = text.size();
  while (end > 0 && !is_identifier_char(text[end - 1])) --end;
  std::size_t begin = end;
  while (begin > 0 && is_identifier_char(text[begin - 1])) --begin;
  return text.substr(begin, end - begin);
}

// "user" from "[with T = ns::user]" or "[T = ns::user]"; template arguments are dropped.
constexpr std::string_view type_identifier(std::string_view signature) noexcept {
  std::size_t start = signature.rfind("T = ");
  if (start == std::string_view::npos) return {};
  std::string_view name = signature.substr(start + 4);
  std::size_t stop = name.find_first_of(";]");
  name = name.substr(0, stop);
  if (!name.empty() && name.back() == '>') {
    int depth = 0;
    for (std::size_t i = name.size(); i-- > 0;) {
      if (name[i] == '>') ++depth;
      if (name[i] == '<' && --depth == 0) {
        name = name.substr(0, i);
        break;
      }
    }
  }
  return last_identifier(name);
}

template <class T, std::size_t I>
using pfr_field_t = std::remove_cvref_t<decltype(boost::pfr::get<I>(fake_object<T>.value))>;

template <class T, std::size_t I>
consteval std::string_view extracted_field_name() {
  return last_identifier(signature_of<member_address<pfr_field_t<T, I>>{&boost::pfr::get<I>(fake_object<T>.value)}>());
}

template <std::size_t N>
consteval fixed_string<N> to_fixed(std::string_view text) {
  fixed_string<N> out;
  for (std::size_t i = 0; i < N; ++i) out.data[i] = text[i];
  return out;
}

// The names are copied into small arrays of their own, so that no signature text ends up in
// the binary.
template <class T, std::size_t I>
inline constexpr auto field_name_storage = to_fixed<extracted_field_name<T, I>().size()>(extracted_field_name<T, I>());

template <class T>
inline constexpr auto type_name_storage =
    to_fixed<type_identifier(type_signature<T>()).size()>(type_identifier(type_signature<T>()));

// The name of the I-th field of aggregate T, as written in its declaration.
template <class T, std::size_t I>
inline constexpr std::string_view field_name = field_name_storage<T, I>.view();

// The unqualified name of T, without template arguments.
template <class T>
inline constexpr std::string_view type_name = type_name_storage<T>.view();

namespace canary {
struct probe {
  int first_field;
  double second_field;
};
}  // namespace canary

static_assert(field_name<canary::probe, 0> == "first_field" && field_name<canary::probe, 1> == "second_field" &&
                  type_name<canary::probe> == "probe",
              "cpm: this compiler spells __PRETTY_FUNCTION__ in a way cpm cannot read field names from; "
              "name the columns with cpm::model_traits<T>::columns");

}  // namespace cpm::detail
