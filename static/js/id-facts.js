// Birth date and sex read from a resident ID (or a HK/Macao/Taiwan residence permit) as it is typed, as the
// server reads them when the form is saved (GB 11643: digits 7–14 the birth date, digit 17 odd for men).
// Only a number whose check digit is right fills anything; the server checks everything again.
(function () {
  "use strict";
  const number = document.getElementById("id_id_number");
  const kind = document.getElementById("id_id_type");
  const birth = document.getElementById("id_birth_date");
  if (!number || !birth) return;
  const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const CHECK = "10X98765432";

  function facts(text) {
    const value = text.replace(/\s+/g, "").toUpperCase()
      .replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
    if (!/^\d{17}[\dX]$/.test(value)) return null;
    const sum = WEIGHTS.reduce((total, weight, i) => total + weight * Number(value[i]), 0);
    if (CHECK[sum % 11] !== value[17]) return null;
    const year = value.slice(6, 10), month = value.slice(10, 12), day = value.slice(12, 14);
    const date = new Date(`${year}-${month}-${day}T00:00:00`);
    if (Number.isNaN(date.getTime()) || date.getMonth() + 1 !== Number(month)) return null;
    return { birth: `${year}-${month}-${day}`, sex: Number(value[16]) % 2 === 1 ? "M" : "F" };
  }

  function fill() {
    if (kind && !["resident_id", "hmt_residence_permit"].includes(kind.value)) return;
    const found = facts(number.value);
    if (!found) return;
    birth.value = found.birth;
    const radio = document.querySelector(`input[name="sex"][value="${found.sex}"]`);
    if (radio) radio.checked = true;
  }

  number.addEventListener("input", fill);
  if (kind) kind.addEventListener("change", fill);
  fill();
})();
