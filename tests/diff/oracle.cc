/*
 * callbar differential test, the oracle side: generate written phone
 * numbers from libphonenumber's own example numbers and say how
 * libphonenumber parses each of them.
 *
 * For every supported region and every number type with an example (and
 * for every non-geographic calling code), the trailing digits of the
 * example are replaced with pseudo-random ones from a fixed seed, keeping
 * the leading digits (the operator, area or mobile prefix) so that the
 * number stays realistic.  Each number is then written in each of the
 * forms callbar accepts (docs/numbering.md), each form in one or more
 * contexts (the subscriber's country), and parsed with
 * PhoneNumberUtil::Parse(input, context).
 *
 * Output, one line per input, tab-separated:
 *   context input lpn_status lpn_cc lpn_nsn form region
 * lpn_status is OK or the name of libphonenumber's error; lpn_cc and
 * lpn_nsn are "-" when it failed.  form and region (the region whose
 * example the number came from, "001" for non-geographic codes) are there
 * for grouping the results.
 *
 * Usage: oracle [VARIANTS]   (random variants of each example, default 4)
 * The output depends only on VARIANTS and libphonenumber's metadata.
 */
#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <set>
#include <string>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

/* splitmix64: small, fast and the same everywhere, so the generated
 * inputs do not depend on the C++ library's random engines. */
struct Rng {
	uint64_t s;
	uint64_t next()
	{
		uint64_t z = (s += 0x9E3779B97F4A7C15ull);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		return z ^ (z >> 31);
	}
	unsigned below(unsigned n) { return static_cast<unsigned>(next() % n); }
};

/* Contexts the international forms are written in, with the international
 * prefix a subscriber there dials (libphonenumber's preferred one). */
struct Intl {
	const char *region;
	const char *idd;
};
const Intl kMainContexts[] = {{"CN", "00"}, {"US", "011"}, {"GB", "00"}};
/* One more context per number for the international-prefix form, taken in
 * turn, so that other prefixes are exercised too. */
const Intl kExtraContexts[] = {{"RU", "810"}, {"JP", "010"}, {"AU", "0011"},
                               {"DE", "00"},  {"HK", "001"}, {"SG", "000"},
                               {"IN", "00"},  {"FR", "00"},  {"KR", "001"},
                               {"TW", "002"},  {"MX", "00"},  {"IT", "00"}};

const PhoneNumberUtil::PhoneNumberType kTypes[] = {
    PhoneNumberUtil::FIXED_LINE,      PhoneNumberUtil::MOBILE,
    PhoneNumberUtil::TOLL_FREE,       PhoneNumberUtil::PREMIUM_RATE,
    PhoneNumberUtil::SHARED_COST,     PhoneNumberUtil::VOIP,
    PhoneNumberUtil::PERSONAL_NUMBER, PhoneNumberUtil::PAGER,
    PhoneNumberUtil::UAN,             PhoneNumberUtil::VOICEMAIL,
};

const char *error_name(PhoneNumberUtil::ErrorType e)
{
	switch (e) {
	case PhoneNumberUtil::NO_PARSING_ERROR:
		return "OK";
	case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
		return "INVALID_COUNTRY_CODE";
	case PhoneNumberUtil::NOT_A_NUMBER:
		return "NOT_A_NUMBER";
	case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
		return "TOO_SHORT_AFTER_IDD";
	case PhoneNumberUtil::TOO_SHORT_NSN:
		return "TOO_SHORT_NSN";
	case PhoneNumberUtil::TOO_LONG_NSN:
		return "TOO_LONG_NSN";
	}
	return "UNKNOWN_ERROR";
}

class Oracle {
public:
	Oracle() : util_(*PhoneNumberUtil::GetInstance()) {}

	unsigned long lines() const { return lines_; }

	/* Write the number +cc nsn (from region's examples) in every form. */
	void emit_number(int cc, const std::string &nsn, const std::string &region)
	{
		const std::string ccs = std::to_string(cc);
		const bool geo = region != "001";
		PhoneNumber num;
		/* The formatted forms come from libphonenumber's formatting
		 * rules, so they are written the way people write numbers of
		 * that country. */
		bool fmt = util_.Parse("+" + ccs + nsn, "ZZ", &num) ==
		           PhoneNumberUtil::NO_PARSING_ERROR;
		std::string intl = "+" + ccs + " " + nsn, rfc = "tel:+" + ccs + "-" + nsn;
		if (fmt) {
			util_.Format(num, PhoneNumberUtil::INTERNATIONAL, &intl);
			util_.Format(num, PhoneNumberUtil::RFC3966, &rfc);
		}
		const std::string after_cc = intl.substr(1 + ccs.size()); /* " 9123 4567" */
		std::string dashed = intl;
		for (char &ch : dashed)
			if (ch == ' ')
				ch = '-';

		const Intl &extra = kExtraContexts[extra_turn_++ % (sizeof kExtraContexts /
		                                                    sizeof kExtraContexts[0])];
		for (const Intl &ctx : kMainContexts) {
			emit(ctx.region, intl, "intl_space", region);
			emit(ctx.region, dashed, "intl_dash", region);
			emit(ctx.region, "+" + ccs + nsn, "intl_plain", region);
			emit(ctx.region, std::string(ctx.idd) + ccs + after_cc, "idd_space", region);
			emit(ctx.region, std::string(ctx.idd) + dashed.substr(1), "idd_dash", region);
			emit(ctx.region, rfc, "tel_global", region);
			emit(ctx.region, "tel:" + nsn + ";phone-context=+" + ccs, "tel_local", region);
			emit(ctx.region, "sip:+" + ccs + nsn + "@gw.example;user=phone", "sip",
			     region);
		}
		emit(extra.region, std::string(extra.idd) + " " + ccs + after_cc, "idd_space",
		     region);

		if (!geo)
			return;
		/* National forms only make sense in the number's own region. */
		std::string ndd;
		util_.GetNddPrefixForRegion(region, true, &ndd);
		emit(region, nsn, "national", region);
		if (!ndd.empty())
			emit(region, ndd + nsn, "national_trunk", region);
		if (fmt) {
			std::string nat;
			util_.Format(num, PhoneNumberUtil::NATIONAL, &nat);
			emit(region, nat, "national_fmt", region);
			/* "(0571) 8888 8888": the first group in parentheses. */
			size_t sp = nat.find(' ');
			if (sp != std::string::npos && nat.find_first_not_of("0123456789") == sp)
				emit(region, "(" + nat.substr(0, sp) + ")" + nat.substr(sp),
				     "national_paren", region);
		}
	}

	/* The example's digits with the trailing ones replaced. */
	std::string randomise(const std::string &nsn)
	{
		std::string out = nsn;
		size_t n = out.size();
		/* Keep at least the first half and never change more than five
		 * digits: what stays names the operator or the area. */
		size_t k = n / 2;
		if (k > 5)
			k = 5;
		for (size_t i = n - k; i < n; i++)
			out[i] = static_cast<char>('0' + rng_.below(10));
		return out;
	}

	void run(unsigned variants)
	{
		std::set<std::string> regions;
		util_.GetSupportedRegions(&regions);
		for (const std::string &r : regions) {
			std::set<std::string> seen;
			for (PhoneNumberUtil::PhoneNumberType t : kTypes) {
				PhoneNumber ex;
				if (!util_.GetExampleNumberForType(r, t, &ex))
					continue;
				std::string nsn;
				util_.GetNationalSignificantNumber(ex, &nsn);
				if (!seen.insert(nsn).second)
					continue;
				for (unsigned v = 0; v < variants; v++)
					emit_number(ex.country_code(), v ? randomise(nsn) : nsn, r);
			}
		}
		std::set<int> codes;
		util_.GetSupportedGlobalNetworkCallingCodes(&codes);
		for (int cc : codes) {
			PhoneNumber ex;
			if (!util_.GetExampleNumberForNonGeoEntity(cc, &ex))
				continue;
			std::string nsn;
			util_.GetNationalSignificantNumber(ex, &nsn);
			/* One example per code: give it more variants so that the
			 * non-geographic codes are not a rounding error. */
			for (unsigned v = 0; v < variants * 8; v++)
				emit_number(cc, v ? randomise(nsn) : nsn, "001");
		}
	}

private:
	/* libphonenumber does not read SIP URIs (it calls any of them
	 * NOT_A_NUMBER), so it is given the user part of one, as a SIP stack
	 * would hand it over: between "sip:" and '@', without parameters.
	 * Every other form goes to it as written. */
	static std::string oracle_text(const std::string &input)
	{
		if (input.compare(0, 4, "sip:") != 0)
			return input;
		size_t at = input.find('@');
		std::string user = input.substr(4, at == std::string::npos ? at : at - 4);
		return user.substr(0, user.find(';'));
	}

	void emit(const char *ctx, const std::string &input, const char *form,
	          const std::string &region)
	{
		PhoneNumber num;
		PhoneNumberUtil::ErrorType e = util_.Parse(oracle_text(input), ctx, &num);
		std::string nsn, cc = "-";
		if (e == PhoneNumberUtil::NO_PARSING_ERROR) {
			util_.GetNationalSignificantNumber(num, &nsn);
			cc = std::to_string(num.country_code());
		} else {
			nsn = "-";
		}
		std::printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ctx, input.c_str(), error_name(e),
		            cc.c_str(), nsn.c_str(), form, region.c_str());
		lines_++;
	}
	void emit(const std::string &ctx, const std::string &input, const char *form,
	          const std::string &region)
	{
		emit(ctx.c_str(), input, form, region);
	}

	const PhoneNumberUtil &util_;
	Rng rng_{0x63616c6c626172ull}; /* "callbar" */
	unsigned extra_turn_ = 0;
	unsigned long lines_ = 0;
};

} // namespace

int main(int argc, char **argv)
{
	unsigned variants = 4;
	if (argc > 1) {
		char *end;
		unsigned long v = std::strtoul(argv[1], &end, 10);
		if (*end || v < 1 || v > 100) {
			std::fprintf(stderr, "usage: oracle [VARIANTS 1..100]\n");
			return 2;
		}
		variants = static_cast<unsigned>(v);
	}
	/* libphonenumber logs every failed parse; the failures are data here. */
	PhoneNumberUtil::GetInstance()->SetLogger(new i18n::phonenumbers::NullLogger());
	Oracle o;
	o.run(variants);
	std::fflush(stdout);
	if (std::ferror(stdout)) {
		std::fprintf(stderr, "oracle: write error\n");
		return 1;
	}
	std::fprintf(stderr, "oracle: %lu inputs\n", o.lines());
	return 0;
}
